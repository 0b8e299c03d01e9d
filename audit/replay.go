package audit

import "github.com/docket-dev/docket"

// Cases rebuilds cases from the chain: each case event, applied in Seq order with
// (*docket.Case).ApplyDecoded to the case it belongs to. audit verify compares the stored
// cases with it; the transparency reports (package report) compute from it.
type Cases map[string]*docket.Case

// Apply applies e, an event of a case, and returns the case as e leaves it and e's decoded
// data (see docket.DecodeEvent). An event that cannot be applied is an error, and changes
// nothing the caller should trust afterwards.
func (cs Cases) Apply(e *docket.Event) (*docket.Case, any, error) {
	c := cs[e.CaseID]
	if c == nil {
		c = &docket.Case{}
		cs[e.CaseID] = c
	}
	data, err := docket.DecodeEvent(e)
	if err == nil {
		err = c.ApplyDecoded(e, data)
	}
	return c, data, err
}
