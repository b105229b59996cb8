//go:build tools

package localkms

import _ "github.com/nsmithuk/local-kms"
