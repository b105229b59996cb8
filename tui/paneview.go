package tui

// paneView keeps the last drawing of a docPane. Drawing a viewport
// measures and pads every visible line, and the frame is drawn again after
// every message, while the lesson beside a run (its status lines, its AWS
// calls, the spinner) or under the welcome text rarely changes: a served
// room draws hundreds of frames a second.
type paneView struct {
	key         string
	theme       string
	y, x, w, h  int
	out         string
	drawnBefore bool
}

// view is d.view(t, k), drawn again only when what it shows changed: the
// pane's content (its key names it), its scroll offset, its size or the
// theme.
func (c *paneView) view(d *docPane, t *theme, k *keyMap) string {
	if c.drawnBefore && c.key == d.key && c.theme == t.name && c.y == d.vp.YOffset() && c.x == d.vp.XOffset() &&
		c.w == d.vp.Width() && c.h == d.vp.Height() {
		return c.out
	}
	c.out = d.view(t, k)
	c.key, c.theme, c.y, c.x, c.w, c.h = d.key, t.name, d.vp.YOffset(), d.vp.XOffset(), d.vp.Width(), d.vp.Height()
	c.drawnBefore = true
	return c.out
}
