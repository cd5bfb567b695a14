package cloud

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
)

func TestLazyRetriesFailedCreation(t *testing.T) {
	var calls atomic.Int32
	l := Lazy[int]{New: func(context.Context) (int, error) {
		if calls.Add(1) == 1 {
			return 0, errors.New("transient")
		}
		return 42, nil
	}}
	if _, err := l.Get(context.Background()); err == nil {
		t.Fatal("first Get should fail")
	}
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if v, err := l.Get(context.Background()); v != 42 || err != nil {
				t.Errorf("Get = %d, %v", v, err)
			}
		}()
	}
	wg.Wait()
	if calls.Load() != 2 {
		t.Errorf("New called %d times, want 2 (one failure, one success)", calls.Load())
	}
}
