package tui

import (
	"errors"
	"fmt"

	"cse-workshop/steps"
)

// advice is what a screen says of an error: what happened and, when
// known, what to do. The screens read errors only through explain, so
// that how the steps phrase advice is met in this one place.
type advice struct {
	what, hint string
}

// explain turns an error of a step or of the live preflight into advice.
// A step that must run first is named with the key that goes to it.
func explain(err error, k *keyMap) advice {
	if err == nil {
		return advice{}
	}
	var pre *steps.PrerequisiteError
	if errors.As(err, &pre) {
		return advice{
			what: fmt.Sprintf("Step %d needs step %d to have run first.", pre.Step, pre.Missing),
			hint: fmt.Sprintf("press %s to go to step %d and run it, then come back", nth(k.Jump, pre.Missing), pre.Missing),
		}
	}
	a := steps.Explain(err)
	return advice{what: a.What, hint: a.Hint}
}
