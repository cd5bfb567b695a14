package geo

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

//go:generate ./internal/gen/gen.sh

// placesGz is the place table built by internal/gen (format described
// there). It stays compressed in the binary until the first lookup.
//
//go:embed data/places.tsv.gz
var placesGz []byte

// record is one place of the table, compact.
type record struct {
	id       uint32
	pop      uint32
	zone     uint16
	name     string
	cc       string
	admin1   string // admin1 code within the country
	lat, lon float64
}

// constraint is one reading of a qualifier: a country, optionally narrowed
// to one admin1 division.
type constraint struct {
	cc     string
	admin1 string // "" means the whole country
}

type country struct {
	iso2, iso3, name string
}

// table is the loaded place table with its name index.
type table struct {
	zones      []string
	countries  map[string]country // by ISO2
	admin1     map[string]string  // "SE.28" → "Västra Götaland"
	qualifiers map[string][]constraint
	places     []record // by population, largest first

	// The name index: sorted distinct keys in one string, key i is
	// keys[keyOff[i]:keyOff[i+1]]; its places (ascending index, so by
	// population) are post[postOff[i]:postOff[i+1]].
	keys    string
	keyOff  []uint32
	postOff []uint32
	post    []uint32

	byID []uint32 // place indices sorted by GeoNames id
}

// tableLoads counts table loads (tests check it stays 0 until the first
// lookup and never exceeds 1).
var tableLoads atomic.Int32

var loadTable = sync.OnceValues(func() (*table, error) {
	tableLoads.Add(1)
	t, err := parseTable(placesGz)
	if err != nil {
		return nil, fmt.Errorf("geo: load place table: %w", err)
	}
	return t, nil
})

// parseTable decompresses and indexes the embedded table.
func parseTable(gz []byte) (*table, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, err
	}
	// The gzip trailer holds the uncompressed size (mod 2³²).
	var buf bytes.Buffer
	if len(gz) >= 4 {
		buf.Grow(int(binary.LittleEndian.Uint32(gz[len(gz)-4:])) + bytes.MinRead)
	}
	if _, err := buf.ReadFrom(zr); err != nil {
		return nil, err
	}
	raw := buf.Bytes()
	t := &table{
		countries:  map[string]country{},
		admin1:     map[string]string{},
		qualifiers: map[string][]constraint{},
	}
	// pre is the key's first 8 bytes, big-endian, so most comparisons in
	// the sort are one integer comparison.
	type pair struct {
		pre   uint64
		key   []byte
		place uint32
	}
	var pairs []pair
	var names strings.Builder
	intern := map[string]string{}
	internB := func(b []byte) string {
		if s, ok := intern[string(b)]; ok {
			return s
		}
		s := string(b)
		intern[s] = s
		return s
	}
	type nameRef struct{ off, n int }
	var nameRefs []nameRef
	var f [11][]byte
	for lineNo := 1; len(raw) > 0; lineNo++ {
		var line []byte
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			line, raw = raw[:i], raw[i+1:]
		} else {
			line, raw = raw, nil
		}
		if len(line) == 0 {
			continue
		}
		n := splitTabs(line, f[:])
		switch line[0] {
		case '#':
		case 'N':
			// Sizes, so the slices are allocated once.
			if n != 4 {
				return nil, fmt.Errorf("line %d: size record has %d fields", lineNo, n)
			}
			np, err1 := strconv.Atoi(string(f[1]))
			nk, err2 := strconv.Atoi(string(f[2]))
			nb, err3 := strconv.Atoi(string(f[3]))
			if err := firstErr(err1, err2, err3); err != nil || np < 0 || nk < 0 || nb < 0 || np > 1<<24 || nk > 1<<26 || nb > 1<<28 {
				return nil, fmt.Errorf("line %d: bad size record", lineNo)
			}
			t.places = make([]record, 0, np)
			nameRefs = make([]nameRef, 0, np)
			pairs = make([]pair, 0, nk)
			names.Grow(nb)
		case 'Z':
			if n != 2 {
				return nil, fmt.Errorf("line %d: zone record has %d fields", lineNo, n)
			}
			t.zones = append(t.zones, string(f[1]))
		case 'C':
			if n != 5 {
				return nil, fmt.Errorf("line %d: country record has %d fields", lineNo, n)
			}
			c := country{iso2: string(f[1]), iso3: string(f[2]), name: string(f[3])}
			t.countries[c.iso2] = c
			for _, k := range bytes.Split(f[4], []byte{'|'}) {
				t.addQualifier(string(k), constraint{cc: c.iso2})
			}
		case 'A':
			if n != 4 {
				return nil, fmt.Errorf("line %d: admin1 record has %d fields", lineNo, n)
			}
			code := string(f[1])
			cc, a1, _ := strings.Cut(code, ".")
			t.admin1[code] = string(f[2])
			for _, k := range bytes.Split(f[3], []byte{'|'}) {
				t.addQualifier(string(k), constraint{cc: cc, admin1: a1})
			}
		case 'P':
			if n != 11 {
				return nil, fmt.Errorf("line %d: place record has %d fields", lineNo, n)
			}
			id, err1 := strconv.ParseUint(string(f[1]), 10, 32)
			lat, err2 := strconv.ParseFloat(string(f[5]), 64)
			lon, err3 := strconv.ParseFloat(string(f[6]), 64)
			pop, err4 := strconv.ParseUint(string(f[7]), 10, 32)
			zone, err5 := strconv.ParseUint(string(f[8]), 10, 16)
			if err := firstErr(err1, err2, err3, err4, err5); err != nil {
				return nil, fmt.Errorf("line %d: %w", lineNo, err)
			}
			if int(zone) >= len(t.zones) {
				return nil, fmt.Errorf("line %d: zone index %d out of range", lineNo, zone)
			}
			idx := uint32(len(t.places))
			nameRefs = append(nameRefs, nameRef{names.Len(), len(f[2])})
			names.Write(f[2])
			t.places = append(t.places, record{
				id: uint32(id), pop: uint32(pop), zone: uint16(zone),
				cc: internB(f[3]), admin1: internB(f[4]), lat: lat, lon: lon,
			})
			for k := range bytes.SplitSeq(f[10], []byte{'|'}) {
				if len(k) > 0 {
					pairs = append(pairs, pair{prefix8(k), k, idx})
				}
			}
		default:
			return nil, fmt.Errorf("line %d: unknown record type %q", lineNo, line[0])
		}
	}
	if len(t.places) == 0 {
		return nil, fmt.Errorf("no places")
	}
	all := names.String()
	for i, r := range nameRefs {
		t.places[i].name = all[r.off : r.off+r.n]
	}

	slices.SortFunc(pairs, func(a, b pair) int {
		switch {
		case a.pre < b.pre:
			return -1
		case a.pre > b.pre:
			return 1
		}
		if c := bytes.Compare(a.key, b.key); c != 0 {
			return c
		}
		return int(a.place) - int(b.place)
	})
	var keys strings.Builder
	keyBytes := 0
	for i := range pairs {
		keyBytes += len(pairs[i].key)
	}
	keys.Grow(keyBytes)
	t.post = make([]uint32, 0, len(pairs))
	t.keyOff = make([]uint32, 0, len(pairs)+1)
	t.postOff = make([]uint32, 0, len(pairs)+1)
	var prev []byte
	for i, p := range pairs {
		if i == 0 || !bytes.Equal(p.key, prev) {
			t.keyOff = append(t.keyOff, uint32(keys.Len()))
			t.postOff = append(t.postOff, uint32(len(t.post)))
			keys.Write(p.key)
			prev = p.key
		} else if t.post[len(t.post)-1] == p.place {
			continue
		}
		t.post = append(t.post, p.place)
	}
	t.keyOff = append(t.keyOff, uint32(keys.Len()))
	t.postOff = append(t.postOff, uint32(len(t.post)))
	t.keys = keys.String()

	t.byID = make([]uint32, len(t.places))
	for i := range t.byID {
		t.byID[i] = uint32(i)
	}
	slices.SortFunc(t.byID, func(a, b uint32) int {
		return int(t.places[a].id) - int(t.places[b].id)
	})
	return t, nil
}

func (t *table) addQualifier(k string, c constraint) {
	if k == "" {
		return
	}
	if slices.Contains(t.qualifiers[k], c) {
		return
	}
	t.qualifiers[k] = append(t.qualifiers[k], c)
}

// lookupKey returns the places whose name key is k, by population.
func (t *table) lookupKey(k string) []uint32 {
	n := len(t.keyOff) - 1
	lo, hi := 0, n
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if t.keys[t.keyOff[m]:t.keyOff[m+1]] < k {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < n && t.keys[t.keyOff[lo]:t.keyOff[lo+1]] == k {
		return t.post[t.postOff[lo]:t.postOff[lo+1]]
	}
	return nil
}

// byGeoNameID returns the index of the place with that id.
func (t *table) byGeoNameID(id uint32) (uint32, bool) {
	i, ok := slices.BinarySearchFunc(t.byID, id, func(p uint32, id uint32) int {
		return int(t.places[p].id) - int(id)
	})
	if !ok {
		return 0, false
	}
	return t.byID[i], true
}

// prefix8 packs the first 8 bytes of k big-endian (zero-padded), so that
// prefix order is byte order.
func prefix8(k []byte) uint64 {
	var p uint64
	for i := range 8 {
		p <<= 8
		if i < len(k) {
			p |= uint64(k[i])
		}
	}
	return p
}

// splitTabs splits line on tabs into f and returns the number of fields
// (fields past len(f) are joined into the last one).
func splitTabs(line []byte, f [][]byte) int {
	n := 0
	for n < len(f)-1 {
		i := bytes.IndexByte(line, '\t')
		if i < 0 {
			break
		}
		f[n] = line[:i]
		line = line[i+1:]
		n++
	}
	f[n] = line
	return n + 1
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
