// Package fidelity holds the offline fake AWS (awsclient/fakeaws) to an
// independent implementation of KMS, local-kms, and runs the workshop's
// whole live code path against both.
//
// The package is tests only. local-kms is built from the separate module in
// tools/localkms, so that its dependencies stay out of the workshop's go.mod,
// and it listens on every interface: the tests run it only inside a private
// network namespace (unshare -n) whose one interface is loopback, and skip
// where namespaces are not available. docs/fidelity.md says what is compared,
// lists the known differences and tells how to run the tests.
package fidelity
