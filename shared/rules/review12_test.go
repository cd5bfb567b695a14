package rules

import "testing"

// TestReview12TextListsOthersReadAreBounded: activations.tags,
// activations.requiredEquipment and programs.tags hold at most 20 elements,
// but each element is unbounded and of any type. Every signed-in user's
// app lists activations and programs, and no server code reads (or
// validates) these fields, so a coach can put a 200,000-character tag, or
// a map, into documents every client downloads and decodes as a list of
// strings. The elements together are at most 1,000 characters, and are
// never a map.
func TestReview12TextListsOthersReadAreBounded(t *testing.T) {
	w := newWorld(t)
	huge := []any{strN(200000)}
	nested := []any{doc{"text": strN(1000)}}
	full := []any{strN(500), strN(500)}
	over := []any{strN(500), strN(501)}
	for _, c := range []rcase{
		f("coach creates an activation with a huge tag", coach, create("activations/act-new",
			with(activationDoc("act-new"), "tags", huge)), deny),
		f("coach creates an activation with a map tag", coach, create("activations/act-new",
			with(activationDoc("act-new"), "tags", nested)), deny),
		f("coach creates an activation with tags over 1000 chars", coach, create("activations/act-new",
			with(activationDoc("act-new"), "tags", over)), deny),
		f("coach creates an activation with huge requiredEquipment", coach, create("activations/act-new",
			with(activationDoc("act-new"), "requiredEquipment", huge)), deny),
		f("coach creates an activation with map requiredEquipment", coach, create("activations/act-new",
			with(activationDoc("act-new"), "requiredEquipment", nested)), deny),
		f("coach sets a huge tag on her activation", coach, update("activations/act-carol", patch("tags", huge)), deny),
		f("coach creates a program with a huge tag", coach, create("programs/prog-new",
			with(programDoc("prog-new"), "tags", huge)), deny),
		f("coach creates a program with a map tag", coach, create("programs/prog-new",
			with(programDoc("prog-new"), "tags", nested)), deny),
		f("coach sets a huge tag on her program", coach, update("programs/prog-carol", patch("tags", huge)), deny),
		f("admin sets a huge tag on a program", admin, update("programs/prog-carol", patch("tags", huge)), deny),
		// still allowed after the fix
		f("coach creates an activation with 20 tags", coach, create("activations/act-new",
			with(activationDoc("act-new"), "tags", listN(20))), allow),
		f("coach creates an activation with tags of 1000 chars", coach, create("activations/act-new",
			with(activationDoc("act-new"), "tags", full)), allow),
		f("coach creates an activation with equipment", coach, create("activations/act-new",
			with(activationDoc("act-new"), "requiredEquipment", []any{"Yoga mat", "Headphones"})), allow),
		f("coach creates an activation with no tags", coach, create("activations/act-new",
			with(activationDoc("act-new"), "tags", []any{})), allow),
		f("coach sets tags of 1000 chars on her program", coach, update("programs/prog-carol", patch("tags", full)), allow),
		f("coach sets tags over 1000 chars on her program", coach, update("programs/prog-carol", patch("tags", over)), deny),
	} {
		t.Run(c.name, func(t *testing.T) { w.check(t, c) })
	}
}
