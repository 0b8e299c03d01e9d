package storetest_test

import (
	"testing"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/storetest"
)

func TestConformance(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) docket.Store { return storetest.Open(t, engine) })
		})
	}
}
