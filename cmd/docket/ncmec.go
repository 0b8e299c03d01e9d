package main

import (
	"log/slog"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/evidence"
	"github.com/docket-dev/docket/jobs"
	"github.com/docket-dev/docket/ncmec"
	"github.com/docket-dev/docket/workflow"
)

// NCMECReporter is who the CyberTipline reports name as the reporting person, and the texts
// the provider adds to every report (config key ncmec_reporter).
type NCMECReporter struct {
	FirstName       string `json:"first_name"`
	LastName        string `json:"last_name"`
	Email           string `json:"email"`
	CompanyTemplate string `json:"company_template"`
	TermsOfService  string `json:"terms_of_service"`
	LegalURL        string `json:"legal_url"`
}

// startNCMEC registers the jobs that send reports to NCMEC's CyberTipline, when ncmec_url is
// set (the service then queues them: workflow.Config.NCMEC).
func startNCMEC(cfg *Config, log *slog.Logger, store docket.Store, svc *workflow.Service, runner *jobs.Runner, keeper *evidence.Keeper) {
	if cfg.NCMECURL == "" {
		return
	}
	r := cfg.NCMECReporter
	(&ncmec.Sender{Service: svc, Store: store, Keeper: keeper, Logger: log,
		Client: &ncmec.Client{BaseURL: cfg.NCMECURL, User: cfg.NCMECUser, Password: cfg.NCMECPassword},
		Info: ncmec.Info{Platform: cfg.PlatformName, FirstName: r.FirstName, LastName: r.LastName, Email: r.Email,
			CompanyTemplate: r.CompanyTemplate, TermsOfService: r.TermsOfService, LegalURL: r.LegalURL}}).Register(runner)
	log.Info("child-protection cases are reported to NCMEC's CyberTipline", slog.String("ncmec_url", cfg.NCMECURL))
}
