package fold

import "testing"

func TestLatin(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Göteborg", "goteborg"},
		{"GÖTEBORG", "goteborg"},
		{"Malmö", "malmo"},
		{"Åre", "are"},
		{"Växjö", "vaxjo"},
		{"São Paulo", "sao paulo"},
		{"Zürich", "zurich"},
		{"Straße", "strasse"},
		{"Ærøskøbing", "aeroskobing"},
		{"Łódź", "lodz"},
		{"Þórshöfn", "thorshofn"},
		{"Œuvre", "oeuvre"},
		{"Hà Nội", "ha noi"},
		{"İstanbul", "istanbul"},
		{"Ñuñoa", "nunoa"},
		{"Stockholm", "stockholm"},
		{"Москва", "москва"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Latin(tt.in); got != tt.want {
			t.Errorf("Latin(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := Latin(Latin(tt.in)); got != Latin(tt.in) {
			t.Errorf("Latin not idempotent on %q: %q", tt.in, got)
		}
	}
}

func TestKey(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Saint-Étienne", "saint etienne"},
		{"  saint   etienne ", "saint etienne"},
		{"Val-d'Or", "val d or"},
		{"St. Louis", "st louis"},
		{"N.Y.", "n y"},
		{"Göteborg", "goteborg"},
		{"--", ""},
	}
	for _, tt := range tests {
		if got := Key(tt.in); got != tt.want {
			t.Errorf("Key(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := Key(Key(tt.in)); got != Key(tt.in) {
			t.Errorf("Key not idempotent on %q: %q", tt.in, got)
		}
	}
}

func BenchmarkKey(b *testing.B) {
	for b.Loop() {
		_ = Key("Göteborg, Västra Götaland, Sverige")
	}
}
