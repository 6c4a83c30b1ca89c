package embeddeddb

// coldStore keeps the encodings of a table's cold partitions in chunks of
// one arena, found by partition key: besides the key, a cold partition is
// no object of its own for the garbage collector to visit, so a large store
// does not make collections longer.
type coldStore struct {
	chunks  [][]byte
	at      map[string]span
	live    int // bytes of the encodings in use
	garbage int // bytes of encodings replaced or removed
}

// span locates an encoding: bytes [off, off+n) of chunk c.
type span struct{ c, off, n uint32 }

// chunkSize is the size of the arena's chunks; a larger encoding gets a
// chunk of its own.
const chunkSize = 1 << 20

func newColdStore() *coldStore { return &coldStore{at: map[string]span{}} }

// get returns the encoding of partition k (shared: read only).
func (s *coldStore) get(k string) ([]byte, bool) {
	sp, ok := s.at[k]
	if !ok {
		return nil, false
	}
	return s.chunks[sp.c][sp.off : sp.off+sp.n], true
}

// put stores enc as partition k's encoding. Chunks are only appended to, so
// slices get returned stay valid.
func (s *coldStore) put(k string, enc []byte) {
	s.remove(k)
	n := len(enc)
	if len(s.chunks) == 0 || cap(s.chunks[len(s.chunks)-1])-len(s.chunks[len(s.chunks)-1]) < n {
		s.chunks = append(s.chunks, make([]byte, 0, max(chunkSize, n)))
	}
	c := len(s.chunks) - 1
	off := len(s.chunks[c])
	s.chunks[c] = append(s.chunks[c], enc...)
	s.at[k] = span{c: uint32(c), off: uint32(off), n: uint32(n)} //nolint:gosec // G115: an item's encoding (DynamoDB's 400 KB at most) at an offset within its chunk (max(chunkSize, n)); far fewer than 2^32 chunks fit in memory
	s.live += n
	if s.garbage > chunkSize && s.garbage > s.live {
		s.compact()
	}
}

// remove forgets partition k.
func (s *coldStore) remove(k string) {
	if sp, ok := s.at[k]; ok {
		delete(s.at, k)
		s.live -= int(sp.n)
		s.garbage += int(sp.n)
	}
}

// compact copies the encodings in use into new chunks (the old ones stay
// valid for whoever still reads them).
func (s *coldStore) compact() {
	old := s.chunks
	s.chunks, s.live, s.garbage = nil, 0, 0
	at := s.at
	s.at = make(map[string]span, len(at))
	for k, sp := range at {
		s.put(k, old[sp.c][sp.off:sp.off+sp.n])
	}
}
