package tui

import (
	"fmt"
	"testing"
)

// TestRingGrowsAsItFills: a new log holds nothing until lines come, and a
// full one keeps the newest.
func TestRingGrowsAsItFills(t *testing.T) {
	r := newRing[int](4)
	if cap(r.items) != 0 {
		t.Errorf("a new ring holds room for %d items, want none until they come", cap(r.items))
	}
	for i := range 6 {
		r.push(i)
	}
	var got []int
	for i := range r.len() {
		got = append(got, r.at(i))
	}
	if want := []int{2, 3, 4, 5}; fmt.Sprint(got) != fmt.Sprint(want) || r.dropped != 2 {
		t.Errorf("ring of 4 after 6 pushes = %v, %d dropped; want %v, 2 dropped", got, r.dropped, want)
	}
	empty := newRing[int](0)
	empty.push(1)
	if empty.len() != 0 {
		t.Errorf("a ring of no capacity kept %d items", empty.len())
	}
}
