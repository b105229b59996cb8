package clock

import (
	"testing"
	"time"
)

var start = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func TestFakeFiresOnlyWhenAdvancedPastDeadline(t *testing.T) {
	c := NewFake(start)
	ch := c.After(2 * time.Minute)
	c.Advance(time.Minute)
	select {
	case <-ch:
		t.Fatal("After(2m) fired after 1m")
	default:
	}
	c.Advance(time.Minute)
	select {
	case got := <-ch:
		if want := start.Add(2 * time.Minute); !got.Equal(want) {
			t.Errorf("fired at %v, want %v", got, want)
		}
	default:
		t.Fatal("After(2m) did not fire after 2m")
	}
	if n := c.Waiters(); n != 0 {
		t.Errorf("Waiters() = %d after firing, want 0", n)
	}
}

func TestAutoJumpsForward(t *testing.T) {
	c := NewAuto(start)
	<-c.After(90 * time.Second)
	if got, want := c.Now(), start.Add(90*time.Second); !got.Equal(want) {
		t.Errorf("Now() = %v after After(90s), want %v", got, want)
	}
}
