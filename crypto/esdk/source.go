package esdk

import "embed"

// Source is the code of this package that calls KMS and seals the data, as
// the binary runs it, for a reader to see (the tutorial's code view). The
// parts shown are marked in the code with "// show:NAME begin" and
// "// show:NAME end" comments.
//
//go:embed keys.go encrypt.go decrypt.go
var Source embed.FS
