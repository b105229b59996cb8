package tui

import (
	"fmt"
	"maps"
	"path/filepath"
	"strings"
	"time"

	progressbar "charm.land/bubbles/v2/progress"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"cse-workshop/internal/text"
	"cse-workshop/steps"
)

// largeFileInBytes is the size from which step 2 and 3 show a progress bar.
const largeFileInBytes = 1 << 20

// minLogRows is the fewest log lines a step screen shows once a run began.
const minLogRows = 3

// minLessonRows is the fewest rows the lesson keeps above a run in the
// stacked layout: its title and a few lines, never one.
const minLessonRows = 6

// stepLayout is how a step screen divides its room: the lesson (text) and
// the status over the log (side). In a compact window only one shows.
type stepLayout struct {
	text, side rect
}

// fresh reports whether the step has not run yet in this session: the
// lesson is what matters then.
func (s *stepScreen) fresh() bool { return s.status == statusIdle && s.runs == 0 && s.tries == 0 }

func (s *stepScreen) layout() stepLayout {
	w, h := s.width, s.height
	switch s.c.mode {
	case layoutWide:
		textW := textWidthWide(w)
		return stepLayout{text: rect{textW, h}, side: rect{w - textW - 3, h}}
	case layoutStacked:
		var sideH int
		if s.fresh() {
			limit := h / 2
			if s.predictionAsked() {
				// The question, too, is to be read before the run.
				limit = h * 2 / 3
			}
			sideH = min(lipgloss.Height(s.withPrediction(s.statusView(w), w))+1, limit)
		} else {
			// The run gets the room it uses, and the lesson the rest, but
			// never less than a few lines of it. A prediction on screen
			// takes the log's place: the room it uses counts instead.
			need := s.sideRows(w, h)
			if p := s.predictionView(w); p != "" {
				need = max(need, lipgloss.Height(s.statusView(w))+lipgloss.Height(p))
			}
			sideH = min(need, h-min(minLessonRows, h/2))
		}
		text := rect{w, max(h-sideH, 3)}
		return stepLayout{text: text, side: rect{w, max(h-text.h, 0)}}
	default:
		l := stepLayout{text: rect{w, h}, side: rect{w, h}}
		if s.fresh() {
			// The line that says how to run the step sits under the
			// lesson: the lesson scrolls in the room above it.
			l.text.h = max(h-lipgloss.Height(s.withPrediction(s.statusLine(w), w)), 1)
		}
		return l
	}
}

// lessonPane is the lesson, sized for the layout and rendered for it.
func (s *stepScreen) lessonPane(l stepLayout) *docPane {
	t := &s.c.theme
	src := s.c.content.lessons[s.step.Number]
	sources := s.c.content.lessonSources[s.step.Number]
	s.lesson.set(fmt.Sprintf("lesson|%s|%d", t.name, l.text.w), l.text.w, l.text.h, func(w int) string {
		if len(sources) == 0 {
			return s.c.md.render(t, src, w)
		}
		return s.c.md.render(t, src, w) + strings.Repeat("\n", t.gap+1) + sourcesView(t, sources, w)
	})
	return &s.lesson
}

// View is the lesson and, beside or below it, the status and the log.
func (s *stepScreen) View() string {
	if s.code != nil {
		return s.codeScreen()
	}
	t, k := &s.c.theme, &s.c.keys
	l := s.layout()
	lesson := s.lessonView.view(s.lessonPane(l), t, k)
	switch s.c.mode {
	case layoutWide:
		return columns(t, l.text.h, lesson, l.text.w, s.sideView(l.side), l.side.w)
	case layoutStacked:
		return fitHeight(lesson, l.text.h) + "\n" + s.sideView(l.side)
	default:
		if s.fresh() {
			// Before the first run the lesson is what matters; the one
			// line under it says how to run the step.
			return fitHeight(lesson, l.text.h) + "\n" + s.withPrediction(s.statusLine(l.text.w), l.text.w)
		}
		return s.sideView(l.side)
	}
}

// sideRows is how many rows the status and the log would fill, up to limit.
func (s *stepScreen) sideRows(width, limit int) int {
	status := lipgloss.Height(s.statusView(width))
	return min(status+1+max(s.log.rows(&s.c.theme, width, limit), minLogRows), limit)
}

// sideView is the status of the step (with its details) over its log.
func (s *stepScreen) sideView(r rect) string {
	width, height := r.w, r.h
	if height <= 0 {
		return ""
	}
	t := &s.c.theme
	status := s.statusView(width)
	statusH := lipgloss.Height(status)
	logH := height - statusH - 1
	if s.fresh() {
		// Nothing logged yet: the status alone, no empty log.
		return fitHeight(s.withPrediction(status, width), height)
	}
	if side := s.besidePrediction(status, width, height); side != "" {
		return side
	}
	if logH < minLogRows {
		statusH = max(height-1-minLogRows, 1)
		status = s.statusFit(width, statusH)
		logH = height - statusH - 1
	}
	title := "Log"
	if s.log.entries.dropped > 0 {
		title = fmt.Sprintf("Log (%d older lines dropped)", s.log.entries.dropped)
	}
	return status + "\n" + t.rule(title, width) + "\n" + s.log.view(t, &s.c.keys, width, logH)
}

// statusLine is the one line that says what Enter does now, or what runs.
func (s *stepScreen) statusLine(width int) string {
	t, k := &s.c.theme, &s.c.keys
	n := s.step.Number
	if s.trying != nil {
		return fitWidth(s.tryStatusLine(), width)
	}
	var line string
	switch s.status {
	case statusRunning:
		line = s.c.spinner.View() + " " + t.bold.Render(fmt.Sprintf("Step %d is running", n)) +
			t.subtle.Render(" "+t.dash+" "+k.Interrupt.Help().Key+" cancels")
	case statusDone:
		line = t.press(k.Enter, s.nextText())
	case statusFailed:
		line = t.failure.Render(t.markError+" Failed.") + " " + t.press(k.Retry, " to retry.")
	case statusCancelled:
		line = t.warn.Render(t.markWarn+" Cancelled.") + " " + t.press(k.Retry, " to run it again.")
	default:
		if s.doneEarlier() {
			line = t.success.Render(t.markSuccess+" Done in an earlier session.") + " " + t.press(k.Enter, s.nextText()) +
				" " + t.press(k.Retry, " to run it again.")
			break
		}
		line = t.press(k.Enter, fmt.Sprintf(" to run step %d.", n))
		if s.missing != 0 {
			// Not a refusal: a facilitator may know better, and the step
			// itself says what is missing if it is.
			line = t.warn.Render(fmt.Sprintf("%s Step %d needs step %d first: press %s to go there.",
				t.markWarn, n, s.missing, nth(k.Jump, s.missing))) + "\n" + line
		}
	}
	return fitWidth(line, width)
}

// nextText is what Enter does on a step that is done: " for the next step."
func (s *stepScreen) nextText() string {
	if s.step.Number == s.c.stepCount() {
		return " for the quiz."
	}
	return " for the next step."
}

// statusHead is the status of a step but its tail: the step's title
// beside the lesson, the success or the failure, and the details the step
// reported.
func (s *stepScreen) statusHead(width int) string {
	t := &s.c.theme
	wide := s.c.mode == layoutWide
	var parts []string
	if wide {
		// Beside the lesson, say which step this is; elsewhere the
		// lesson's own title or the header does.
		parts = append(parts, t.heading.Render(truncate(s.Title()+" "+t.dash+" "+s.step.Title, width, t)))
	}
	switch s.status {
	case statusDone:
		success := s.success
		if success == "" {
			success = s.step.Success
		}
		if wide {
			parts = append(parts, t.successBox.Render(text.Wrap(t.markSuccess+" "+success, max(width-4, 10))))
		} else {
			// One highlighted line costs less height than a box.
			parts = append(parts, t.successBar.Render(text.Wrap(" "+t.markSuccess+" "+success+" ", width)))
		}
	case statusFailed:
		body := t.failure.Render(text.Wrap(t.markError+" "+s.advice.what, max(width-4, 10)))
		if s.advice.hint != "" {
			body += "\n" + t.text.Render(text.Wrap("hint: "+s.advice.hint, max(width-4, 10)))
		}
		parts = append(parts, t.failBox.Render(body))
	}
	if d := s.detailsView(width); d != "" {
		parts = append(parts, d)
	}
	return strings.Join(parts, "\n")
}

// statusView is the whole status of a step: its head, the offer of its
// experiments, and the line that says what Enter does, or what runs.
func (s *stepScreen) statusView(width int) string {
	return s.statusFit(width, 0)
}

// minStatusHeadRows is the fewest rows of a step's status head that a
// status cut to fit keeps before the offer of experiments, if it has them.
const minStatusHeadRows = 3

// statusFit is the status in at most height lines (any with 0). The line
// that says what Enter does stays whole; the offer of experiments stays
// while the head keeps a few rows (the help bar names the key as well);
// the head's details give way from their end.
func (s *stepScreen) statusFit(width, height int) string {
	head, hint, line := s.statusHead(width), s.tryHint(width), s.statusLine(width)
	if height <= 0 {
		return joinLines(head, hint, line)
	}
	room := height - lipgloss.Height(line)
	if room <= 0 {
		lines := strings.Split(line, "\n")
		return strings.Join(lines[len(lines)-height:], "\n")
	}
	headH := 0
	if head != "" {
		headH = lipgloss.Height(head)
	}
	if hint != "" && room-1 < min(headH, minStatusHeadRows) {
		hint = ""
	}
	if hint != "" {
		room--
	}
	if headH > room {
		head = fitHeight(head, room)
	}
	if room == 0 {
		head = ""
	}
	return joinLines(head, hint, line)
}

// joinLines joins the parts that are not empty, one under the other.
func joinLines(parts ...string) string {
	var kept []string
	for _, p := range parts {
		if p != "" {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, "\n")
}

// detailsView shows what the step's details say, by kind.
func (s *stepScreen) detailsView(width int) string {
	t := &s.c.theme
	d := s.details
	kv := newKV(t, width, 18)
	var b strings.Builder
	if d.dataKey != nil {
		b.WriteString(kv.row("Data key", d.dataKey.Plaintext(), false))
		if d.header == nil {
			b.WriteString(kv.row("Encrypted data key", fmt.Sprintf("%d bytes  %s%s", d.dataKey.EncryptedDataKeySize, d.dataKey.EncryptedDataKeyPreview, t.ellipsis), false))
		}
	}
	switch h := d.header; {
	case h != nil && s.status == statusRunning:
		// While a large file is encrypted, the progress needs the room.
		b.WriteString(kv.row("Header", fmt.Sprintf("AWS Encryption SDK message, version %d, suite %s, %s frames",
			h.Version, h.SuiteID, text.Size(int64(h.FrameLengthInBytes))), false))
	case h != nil:
		b.WriteString(headerView(t, h, d.dataKey, width, kv))
	}
	if d.files != nil {
		b.WriteString(kv.row("Files", fmt.Sprintf("%s %s %s", fileLine(d.files.Input), t.arrow(), fileLine(d.files.Output)), false))
	}
	if p := d.progress; p != nil && p.TotalBytes >= largeFileInBytes && s.status == statusRunning {
		b.WriteString(kv.row("Progress", fmt.Sprintf("%s of %s", text.Size(p.DoneBytes), text.Size(p.TotalBytes)), false))
		b.WriteString(progressBar(t, float64(p.DoneBytes)/float64(p.TotalBytes), width) + "\n")
	}
	if c := d.compare; c != nil {
		b.WriteString(compareView(t, c, width, kv))
	}
	if s.step.WaitsForAudit {
		b.WriteString(s.auditView(width, kv))
	}
	if del := d.deletion; del != nil {
		b.WriteString(kv.row("KMS key", del.KeyARN, false))
		days := int(del.DeletionDate.Sub(s.ended).Hours()/24 + 0.5)
		when := text.Date(del.DeletionDate)
		if !s.ended.IsZero() && days > 0 {
			when += fmt.Sprintf(" (in %d days)", days)
		}
		b.WriteString(kv.row("Deleted on", when, true))
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// headerView is the header of an AWS Encryption SDK message, as anyone
// who has the file can read it: one row per field but the fixed ones.
// dataKey, when known, adds a preview of the encrypted data key.
func headerView(t *theme, h *steps.HeaderDetail, dataKey *steps.DataKeyDetail, width int, kv kvTable) string {
	var b strings.Builder
	b.WriteString(kv.row("Header", fmt.Sprintf("AWS Encryption SDK message, version %d", h.Version), false))
	b.WriteString(kv.row("  Suite", h.SuiteID+" "+h.SuiteName, false))
	b.WriteString(kv.row("  Message ID", shortHash(h.MessageID, width-kv.labelW-1, t), false))
	b.WriteString(kv.row("  Context", text.Context(shortPublicKey(h.EncryptionContext, t)), true))
	for _, edk := range h.EncryptedDataKeys {
		v := fmt.Sprintf("%s, %d bytes", edk.ProviderID, edk.SizeInBytes)
		if dataKey != nil && edk.KeyARN == dataKey.KeyARN {
			v += "  " + dataKey.EncryptedDataKeyPreview + t.ellipsis
		}
		if edk.KeyARN != "" {
			v += ", under " + edk.KeyARN
		}
		b.WriteString(kv.row("  Data key", v, false))
	}
	b.WriteString(kv.row("  Frames", fmt.Sprintf("%s (%d bytes)", text.Size(int64(h.FrameLengthInBytes)), h.FrameLengthInBytes), false))
	return b.String()
}

// shortPublicKey returns ec with the value of aws-crypto-public-key cut
// short: a screen has room to show the pair is there, not its 68
// characters.
func shortPublicKey(ec map[string]string, t *theme) map[string]string {
	v, ok := ec[steps.PublicKeyContextKey]
	if !ok || len(v) <= 12 {
		return ec
	}
	short := maps.Clone(ec)
	short[steps.PublicKeyContextKey] = v[:12] + t.ellipsis
	return short
}

// compareView is the comparison of the original and the decrypted file.
func compareView(t *theme, c *steps.CompareDetail, width int, kv kvTable) string {
	var b strings.Builder
	b.WriteString(kv.row("Original", fileLine(c.Original), false))
	b.WriteString(kv.row("  SHA-256", shortHash(c.Original.SHA256, width-kv.labelW, t), false))
	b.WriteString(kv.row("Decrypted", fileLine(c.Cycled), false))
	b.WriteString(kv.row("  SHA-256", shortHash(c.Cycled.SHA256, width-kv.labelW, t), false))
	if c.Match {
		b.WriteString(t.success.Render(text.Wrap(t.markSuccess+" MATCH: the two files are identical, byte for byte.", width)) + "\n")
	} else {
		b.WriteString(t.failure.Render(text.Wrap(t.markError+" MISMATCH: the files differ.", width)) + "\n")
	}
	return b.String()
}

// auditView is the wait for the audit trail: the countdown, the looks and
// the record found.
func (s *stepScreen) auditView(width int, kv kvTable) string {
	t := &s.c.theme
	d := s.details
	var b strings.Builder
	if w := d.wait; w != nil && d.record == nil {
		left, total := clockDuration(w.Remaining), clockDuration(w.Total)
		switch {
		case w.CheckedEarly:
			// The wait was cut short, not completed: no bar at 100%.
			b.WriteString(kv.row("CloudTrail wait", fmt.Sprintf("cut short with %s left of %s", left, total), false))
		case s.status != statusRunning && w.Remaining > 0:
			// Cancelled or failed: a countdown that no longer runs would
			// look frozen.
			b.WriteString(kv.row("CloudTrail wait", fmt.Sprintf("stopped with %s left of %s", left, total), false))
		default:
			b.WriteString(kv.row("CloudTrail wait", fmt.Sprintf("%s left of %s", left, total), false))
			done := 1.0
			if w.Total > 0 {
				done = 1 - float64(w.Remaining)/float64(w.Total)
			}
			b.WriteString(progressBar(t, done, width) + "\n")
		}
	}
	if d.record == nil && s.status == statusRunning {
		b.WriteString(s.lookView(width, kv))
	}
	if r := d.record; r != nil {
		b.WriteString(recordView(t, r, width, kv, s.c.mode == layoutWide))
	}
	return b.String()
}

// lookView says whether the step is looking now, or what the last look
// found and how to look again.
func (s *stepScreen) lookView(width int, kv kvTable) string {
	t, k := &s.c.theme, &s.c.keys
	d := s.details
	switch {
	case s.checkRequested:
		return t.notice.Render("Looking in CloudTrail now…") + "\n"
	case d.poll != nil:
		return kv.row("Looked", fmt.Sprintf("%s: not delivered yet", times(d.poll.Attempt)), false) +
			t.subtle.Render(text.Wrap("Press "+k.Check.Help().Key+" to look again now.", width)) + "\n"
	default:
		return t.subtle.Render(text.Wrap("Press "+k.Check.Help().Key+" to look now, before the wait is over.", width)) + "\n"
	}
}

// recordView is the CloudTrail record found, and with withJSON an excerpt
// of its JSON.
func recordView(t *theme, r *steps.RecordDetail, width int, kv kvTable, withJSON bool) string {
	var b strings.Builder
	// What the lesson is about first: a short window cuts from the bottom.
	b.WriteString(t.success.Render(truncate(fmt.Sprintf("%s CloudTrail record of %s", t.markSuccess, r.EventName), width, t)) + "\n")
	b.WriteString(kv.row("Encryption context", text.Context(shortPublicKey(r.EncryptionContext, t)), true))
	if _, ok := r.EncryptionContext[steps.PublicKeyContextKey]; ok {
		b.WriteString(kv.row("", steps.PublicKeyContextKey+": the message signature's public key, which the SDK binds to the data key", false))
	}
	b.WriteString(kv.row("KMS key", r.KeyARN, false))
	b.WriteString(kv.row("Called at", text.Date(r.EventTime), false))
	// When the record became visible is the delivery; when this tool
	// found it is only when it looked.
	b.WriteString(kv.row("Visible", r.Visible(), true))
	b.WriteString(kv.row("Found at", text.Date(r.FoundAt)+" (when this tool looked)", false))
	b.WriteString(kv.row("Event ID", r.EventID, false))
	if r.JSON == "" || !withJSON {
		return b.String()
	}
	b.WriteString(t.rule("CloudTrailEvent (excerpt)", width) + "\n")
	for _, line := range recordExcerpt(r.JSON, t.ellipsis) {
		line = truncate(line, width, t)
		if !strings.Contains(line, `"encryptionContext"`) && !isContextLine(line, r.EncryptionContext) {
			b.WriteString(t.text.Render(line) + "\n")
			continue
		}
		body := strings.TrimLeft(line, " ")
		b.WriteString(line[:len(line)-len(body)] + t.highlight.Render(body) + "\n")
	}
	return b.String()
}

// recordExcerpt is the part of a CloudTrail record the lesson is about:
// from requestParameters (with the encryption context) to responseElements
// (null: no key material). Without those fields, it is the whole record.
func recordExcerpt(record, ellipsis string) []string {
	lines := strings.Split(record, "\n")
	from, to := -1, -1
	for i, l := range lines {
		switch {
		case from < 0 && strings.Contains(l, `"requestParameters"`):
			from = i
		case from >= 0 && strings.Contains(l, `"responseElements"`):
			to = i
		}
	}
	if from < 0 || to < 0 {
		return lines
	}
	indent := lines[from][:len(lines[from])-len(strings.TrimLeft(lines[from], " "))]
	out := append([]string{indent + ellipsis}, lines[from:to+1]...)
	return append(out, indent+ellipsis)
}

// isContextLine reports whether a line of the record's JSON holds one of
// the encryption context's pairs.
func isContextLine(line string, ctx map[string]string) bool {
	for k := range ctx {
		if strings.Contains(line, `"`+k+`"`) {
			return true
		}
	}
	return false
}

// progressBar draws a static bar for done (0 to 1).
func progressBar(t *theme, done float64, width int) string {
	p := progressbar.New(progressbar.WithWidth(min(width, 60)), progressbar.WithFillCharacters(t.progressFullChar, t.progressEmptyChar))
	p.FullColor, p.EmptyColor = t.progressFull, t.progressEmpty
	p.PercentageStyle = t.bold
	return p.ViewAs(max(0, min(1, done)))
}

// kvTable lays out label/value rows with the labels in one column.
type kvTable struct {
	t      *theme
	width  int
	labelW int
}

func newKV(t *theme, width, labelW int) kvTable {
	return kvTable{t: t, width: width, labelW: min(labelW, max(width*2/5, 4))}
}

// row draws one row, the value wrapped under itself; highlight marks the
// facts the lesson is about.
func (k kvTable) row(label, value string, highlight bool) string {
	t := k.t
	valueW := max(k.width-k.labelW-1, 8)
	lines := strings.Split(text.Wrap(value, valueW), "\n")
	style := t.value
	if highlight {
		style = t.highlight
	}
	var b strings.Builder
	for i, v := range lines {
		l := ""
		if i == 0 {
			l = truncate(label, k.labelW, t)
		}
		b.WriteString(t.label.Render(fmt.Sprintf("%-*s", k.labelW, l)) + " " + style.Render(v) + "\n")
	}
	return b.String()
}

func fileLine(f steps.FileSummary) string {
	return fmt.Sprintf("%s, %s", filepath.Base(f.Path), text.Size(f.SizeInBytes))
}

// shortHash shows a hash whole when it fits, else its two ends.
func shortHash(h string, width int, t *theme) string {
	if h == "" {
		return "(not computed)"
	}
	if len(h) <= width || width < 20 {
		return h
	}
	half := (width - len(t.ellipsis)) / 2
	return h[:half] + t.ellipsis + h[len(h)-half:]
}

// clockDuration writes a duration as m:ss.
func clockDuration(d time.Duration) string {
	d = d.Round(time.Second)
	return fmt.Sprintf("%d:%02d", int(d.Minutes()), int(d.Seconds())%60)
}

// times writes a count of attempts: "once", "twice", "3 times".
func times(n int) string {
	switch n {
	case 1:
		return "once"
	case 2:
		return "twice"
	}
	return fmt.Sprintf("%d times", n)
}

// fitWidth cuts each line of s to width columns.
func fitWidth(s string, width int) string {
	lines := strings.Split(s, "\n")
	for i := range lines {
		lines[i] = ansi.Truncate(lines[i], width, "")
	}
	return strings.Join(lines, "\n")
}
