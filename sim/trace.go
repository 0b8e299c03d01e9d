package sim

import "time"

// Arrival is one request of a run as the simulation drew it (Options.Trace): enough to send
// the same request to a real server and to have the same people do the same work on it.
type Arrival struct {
	At      time.Time
	Class   int  // index in Config.Classes
	Flagged bool // flagged an emergency by its sender
	Spam    bool
	Lang    string
	Country string
	// Target is the content a notice names (0: none); Join says that the request is about
	// the matter of its requester's newest open case (authorities' requests).
	Target uint32
	Join   bool
	// Work is what the case it opened needed, when it opened one in the simulation; Ack is
	// how long the person on call took to acknowledge its page (emergencies).
	Work *Work
	Ack  time.Duration
}

// Work is the work a case needs: a person's handling (decide, and answer when no second
// person is needed), a reviewer's approval, the answer after it, the requester's delay to
// reply to a question (0: never), and the outcome decided.
type Work struct {
	Handle, Approve, Answer, Reply time.Duration
	Outcome                        string
}

// outcomeNames are the outcomes' names in the API (docket.Outcome), by the simulation's code.
var outcomeNames = [...]string{outComply: "comply", outPartial: "partial", outRefuse: "refuse", outNotActionable: "not_actionable", outNeedInfo: "need_info"}

func secs(s uint32) time.Duration { return time.Duration(s) * time.Second }
