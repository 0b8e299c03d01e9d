package sim

import (
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// person is one member of staff.
type person struct {
	team     int
	reviewer bool
	langs    uint64 // bit i: reads language i
	queues   uint64 // bit i: works queue i (all bits when the team lists none)
	shifts   []shift
	// state during the run
	onShift bool
	busy    bool
	item    int32 // the case being worked, -1 none
	since   int64 // when it was taken
	busyUs  int64 // time spent on cases
	shiftUs int64 // time on shift
	extraUs int64 // time on cases outside shifts (on call, finishing a case)
	idleAt  int   // index in the idle list, -1 when not idle
}

// shift is a working window in Unix microseconds.
type shift struct{ from, to int64 }

// team returns how many of n people each team gets (largest remainder of the shares).
func teamSizes(teams []Team, n int) []int {
	sum := 0.0
	for _, t := range teams {
		sum += t.Share
	}
	sizes := make([]int, len(teams))
	rem := make([]float64, len(teams))
	given := 0
	for i, t := range teams {
		exact := float64(n) * t.Share / sum
		sizes[i] = int(exact)
		rem[i] = exact - float64(sizes[i])
		given += sizes[i]
	}
	for ; given < n; given++ {
		best := 0
		for i := range rem {
			if rem[i] > rem[best] {
				best = i
			}
		}
		sizes[best]++
		rem[best] = -1
	}
	return sizes
}

// buildStaff makes n people with their shifts between from and to: each team's days and
// hours in its time zone, less a block of vacation, sick days and holidays. The first
// Reviewers share of each team are reviewers.
func buildStaff(cfg *Config, n int, langs, queues map[string]int, from, to time.Time) []person {
	sizes := teamSizes(cfg.Staff.Teams, n)
	var staff []person
	days := int(to.Sub(from).Hours()/24) + 1
	for ti, t := range cfg.Staff.Teams {
		reviewers := int(math.Ceil(float64(sizes[ti]) * t.Reviewers))
		for j := range sizes[ti] {
			// Each person's absences come from a generator of their own (team, number), so
			// that a larger team keeps the smaller one's people as they were.
			rng := rand.New(rand.NewPCG(cfg.Seed, uint64(ti)<<32|uint64(j)))
			p := person{team: ti, reviewer: j < reviewers, item: -1, idleAt: -1}
			for _, l := range t.Languages {
				if i, ok := langs[l]; ok {
					p.langs |= 1 << i
				}
			}
			p.queues = ^uint64(0)
			if len(t.Queues) > 0 {
				p.queues = 0
				for _, q := range t.Queues {
					if i, ok := queues[q]; ok {
						p.queues |= 1 << i
					}
				}
			}
			vacation := int(cfg.Staff.VacationDays)
			if rng.Float64() < cfg.Staff.VacationDays-float64(vacation) {
				vacation++
			}
			vacStart := rng.IntN(max(days-vacation, 1))
			loc := time.FixedZone(t.Name, t.TZ*3600)
			for d := range days {
				day := from.AddDate(0, 0, d)
				local := time.Date(day.Year(), day.Month(), day.Day(), t.StartHour, 0, 0, 0, loc)
				if !slices.Contains(t.Days, int(local.Weekday())) {
					continue
				}
				if d >= vacStart && d < vacStart+vacation {
					continue
				}
				if rng.Float64() < cfg.Staff.SickRate {
					continue
				}
				if present, ok := holidayPresence(cfg, local); ok && rng.Float64() >= present {
					continue
				}
				s := shift{from: local.UnixMicro(), to: local.Add(time.Duration(t.Hours) * time.Hour).UnixMicro()}
				if s.to <= from.UnixMicro() || s.from >= to.UnixMicro() {
					continue
				}
				p.shifts = append(p.shifts, s)
			}
			staff = append(staff, p)
		}
	}
	return staff
}

func holidayPresence(cfg *Config, local time.Time) (float64, bool) {
	day := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, time.UTC)
	for _, h := range cfg.Holidays {
		if !day.Before(h.From.Time) && day.Before(h.To.Time) {
			return h.StaffPresent, true
		}
	}
	return 1, false
}

// oncall returns who is on call in the week of t at rung level of the ladder: the staff
// take weekly turns in the order of their number.
func oncall(n int, start, t int64, level int) int {
	const week = int64(7 * 24 * time.Hour / time.Microsecond)
	w := int((t - start) / week)
	return (w + level) % n
}
