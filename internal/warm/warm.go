// Package warm starts, as the program starts, work that a command run is
// sure to wait for later, on another core while the rest of the program
// initialises. The main package imports it for its side effect only.
//
// Its one job today is the standard library's table of P-384 generator
// multiples, which the first P-384 key or signature check of a process
// builds (crypto/ecdh and crypto/ecdsa share it): a few milliseconds, about
// a tenth of a small file's encrypt or decrypt, whose signed messages (the
// default suite) need a key or a signature check. Go initialises packages
// in the order of their import paths, dependencies first, so this package,
// which needs only the standard library, starts its goroutine before the
// AWS SDK's and the tutorial's packages initialise (about half of the
// start-up): by the time KMS has answered, the table is there.
package warm

import (
	"crypto/ecdh"
	"crypto/rand"
	"os"
)

func init() {
	if Wanted(os.Args[1:]) {
		go p384()
	}
}

// Wanted says whether the command line args (without the program's name)
// is one that may use P-384: encrypt or decrypt. The command is the first
// of args that names one: a flag's value that happens to be "encrypt" only
// costs the work on another core. Arguments after "--" are files.
func Wanted(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "encrypt", "decrypt":
			return true
		}
	}
	return false
}

// p384 makes a P-384 key and throws it away, which builds the table.
func p384() {
	// It never fails for P-384; if it did, the command's own key would
	// fail the same way and say so.
	_, _ = ecdh.P384().GenerateKey(rand.Reader)
}
