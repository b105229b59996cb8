package warm

import "testing"

// The table is built for the file commands, wherever the command stands
// among the global flags, and not for the tutorial, the help or a file
// named like a command.
func TestWanted(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{[]string{"encrypt", "a", "b"}, true},
		{[]string{"decrypt", "a.enc", "a"}, true},
		{[]string{"--dir", "/tmp/w", "encrypt", "a", "b"}, true},
		{[]string{"--aws", "--region", "eu-west-1", "decrypt", "a", "b"}, true},
		{nil, false},
		{[]string{"--help"}, false},
		{[]string{"step", "2"}, false},
		{[]string{"mock-aws", "--listen", "127.0.0.1:0"}, false},
		{[]string{"serve"}, false},
		{[]string{"--", "encrypt"}, false},
	} {
		if got := Wanted(tc.args); got != tc.want {
			t.Errorf("Wanted(%q) = %v, want %v", tc.args, got, tc.want)
		}
	}
}
