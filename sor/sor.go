// Package sor is the format of a statement of reasons (DSA art. 17) as the Commission's DSA
// Transparency Database receives it (art. 24(5)): the API's field names and enumerations,
// the validation the database applies before it accepts a statement (Validate), and the
// mapping from an action docket carried out on the platform to such a statement (FromAction).
// It does no I/O: package transparency submits what it builds.
//
// The rules are those of the database's own code (github.com/digital-services-act/
// transparency-database: app/Http/Requests/StatementStoreRequest.php for POST
// /api/v1/statement, app/Services/GroupedSubmissionsService.php for POST /api/v1/statements,
// the enumerations of app/Models/Statement.php, the country and language lists of
// app/Services/European*Service.php), read on 2026-06-24.
package sor

import "slices"

// Statement is one statement of reasons with the API's field names. Optional fields are
// left out when empty; the database treats an absent field and null alike.
type Statement struct {
	DecisionVisibility         []string `json:"decision_visibility,omitempty"`
	DecisionVisibilityOther    string   `json:"decision_visibility_other,omitempty"`
	DecisionMonetary           string   `json:"decision_monetary,omitempty"`
	DecisionMonetaryOther      string   `json:"decision_monetary_other,omitempty"`
	DecisionProvision          string   `json:"decision_provision,omitempty"`
	DecisionAccount            string   `json:"decision_account,omitempty"`
	AccountType                string   `json:"account_type,omitempty"`
	DecisionGround             string   `json:"decision_ground"`
	DecisionGroundReferenceURL string   `json:"decision_ground_reference_url,omitempty"`
	// With DECISION_GROUND_ILLEGAL_CONTENT: the law relied on and why the content breaks it.
	IllegalContentLegalGround string `json:"illegal_content_legal_ground,omitempty"`
	IllegalContentExplanation string `json:"illegal_content_explanation,omitempty"`
	// With DECISION_GROUND_INCOMPATIBLE_CONTENT: the clause of the terms and why.
	IncompatibleContentGround      string   `json:"incompatible_content_ground,omitempty"`
	IncompatibleContentExplanation string   `json:"incompatible_content_explanation,omitempty"`
	IncompatibleContentIllegal     string   `json:"incompatible_content_illegal,omitempty"`
	ContentType                    []string `json:"content_type"`
	ContentTypeOther               string   `json:"content_type_other,omitempty"`
	Category                       string   `json:"category"`
	CategoryAddition               []string `json:"category_addition,omitempty"`
	CategorySpecification          []string `json:"category_specification,omitempty"`
	CategorySpecificationOther     string   `json:"category_specification_other,omitempty"`
	TerritorialScope               []string `json:"territorial_scope,omitempty"`
	ContentLanguage                string   `json:"content_language,omitempty"`
	// Dates are YYYY-MM-DD.
	ContentDate                  string `json:"content_date"`
	ApplicationDate              string `json:"application_date"`
	EndDateAccountRestriction    string `json:"end_date_account_restriction,omitempty"`
	EndDateMonetaryRestriction   string `json:"end_date_monetary_restriction,omitempty"`
	EndDateServiceRestriction    string `json:"end_date_service_restriction,omitempty"`
	EndDateVisibilityRestriction string `json:"end_date_visibility_restriction,omitempty"`
	DecisionFacts                string `json:"decision_facts"`
	SourceType                   string `json:"source_type"`
	SourceIdentity               string `json:"source_identity,omitempty"`
	AutomatedDetection           string `json:"automated_detection"` // "Yes" or "No"
	AutomatedDecision            string `json:"automated_decision"`
	// PUID is the platform's unique identifier of the statement: never reused.
	PUID string `json:"puid"`
}

// Enumerations of the API (the keys of the constants of app/Models/Statement.php).
var (
	DecisionVisibilities = []string{"DECISION_VISIBILITY_CONTENT_REMOVED", "DECISION_VISIBILITY_CONTENT_DISABLED",
		"DECISION_VISIBILITY_CONTENT_DEMOTED", "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED",
		"DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED", "DECISION_VISIBILITY_CONTENT_LABELLED", VisibilityOther}
	DecisionMonetaries = []string{"DECISION_MONETARY_SUSPENSION", "DECISION_MONETARY_TERMINATION", MonetaryOther}
	DecisionProvisions = []string{"DECISION_PROVISION_PARTIAL_SUSPENSION", "DECISION_PROVISION_TOTAL_SUSPENSION",
		"DECISION_PROVISION_PARTIAL_TERMINATION", "DECISION_PROVISION_TOTAL_TERMINATION"}
	DecisionAccounts = []string{AccountSuspended, AccountTerminated}
	AccountTypes     = []string{"ACCOUNT_TYPE_BUSINESS", "ACCOUNT_TYPE_PRIVATE"}
	DecisionGrounds  = []string{GroundIllegal, GroundIncompatible}
	ContentTypes     = []string{"CONTENT_TYPE_APP", "CONTENT_TYPE_AUDIO", "CONTENT_TYPE_IMAGE", "CONTENT_TYPE_PRODUCT",
		"CONTENT_TYPE_SYNTHETIC_MEDIA", ContentText, "CONTENT_TYPE_VIDEO", ContentOther}
	Categories = []string{"STATEMENT_CATEGORY_ANIMAL_WELFARE", "STATEMENT_CATEGORY_CONSUMER_INFORMATION",
		"STATEMENT_CATEGORY_CYBER_VIOLENCE", "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN",
		"STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS", "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
		"STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS", "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS",
		CategoryNotSpecified, CategoryOtherTC, "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
		"STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY", "STATEMENT_CATEGORY_SCAMS_AND_FRAUD", "STATEMENT_CATEGORY_SELF_HARM",
		"STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS", "STATEMENT_CATEGORY_VIOLENCE"}
	Keywords = []string{"KEYWORD_ADULT_SEXUAL_MATERIAL", "KEYWORD_AGE_SPECIFIC_RESTRICTIONS",
		"KEYWORD_AGE_SPECIFIC_RESTRICTIONS_MINORS", "KEYWORD_ANIMAL_HARM", "KEYWORD_BIOMETRIC_DATA_BREACH",
		"KEYWORD_BULLYING_AGAINST_GIRLS", "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL", "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE",
		"KEYWORD_CONTENT_PROMOTING_EATING_DISORDERS", "KEYWORD_COORDINATED_HARM", "KEYWORD_COPYRIGHT_INFRINGEMENT",
		"KEYWORD_CYBER_BULLYING_INTIMIDATION", "KEYWORD_CYBER_HARASSMENT", "KEYWORD_CYBER_HARASSMENT_AGAINST_WOMEN",
		"KEYWORD_CYBER_INCITEMENT", "KEYWORD_CYBER_STALKING", "KEYWORD_CYBER_STALKING_AGAINST_WOMEN",
		"KEYWORD_DATA_FALSIFICATION", "KEYWORD_DEFAMATION", "KEYWORD_DESIGN_INFRINGEMENT", "KEYWORD_DISCRIMINATION",
		"KEYWORD_FEMALE_GENDERED_DISINFORMATION", "KEYWORD_GEOGRAPHIC_INDICATIONS_INFRINGEMENT",
		"KEYWORD_GEOGRAPHICAL_REQUIREMENTS", "KEYWORD_GOODS_SERVICES_NOT_PERMITTED",
		"KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS", "KEYWORD_HATE_SPEECH", "KEYWORD_HIDDEN_ADVERTISEMENT",
		"KEYWORD_HUMAN_EXPLOITATION", "KEYWORD_HUMAN_TRAFFICKING", "KEYWORD_ILLEGAL_ORGANIZATIONS",
		"KEYWORD_IMPERSONATION_ACCOUNT_HIJACKING", "KEYWORD_INAUTHENTIC_ACCOUNTS", "KEYWORD_INAUTHENTIC_LISTINGS",
		"KEYWORD_INAUTHENTIC_USER_REVIEWS", "KEYWORD_INCITEMENT_AGAINST_WOMEN", "KEYWORD_INCITEMENT_VIOLENCE_HATRED",
		"KEYWORD_INSUFFICIENT_INFORMATION_ON_TRADERS", "KEYWORD_LANGUAGE_REQUIREMENTS",
		"KEYWORD_MISINFORMATION_DISINFORMATION", "KEYWORD_MISLEADING_INFO_CONSUMER_RIGHTS",
		"KEYWORD_MISLEADING_INFO_GOODS_SERVICES", "KEYWORD_MISSING_PROCESSING_GROUND",
		"KEYWORD_NON_CONSENSUAL_IMAGE_SHARING", "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING_AGAINST_WOMEN",
		"KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE", "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE_AGAINST_WOMEN",
		"KEYWORD_NONCOMPLIANCE_PRICING", "KEYWORD_NUDITY", "KEYWORD_PATENT_INFRINGEMENT", "KEYWORD_PHISHING",
		"KEYWORD_PROHIBITED_PRODUCTS", "KEYWORD_PYRAMID_SCHEMES", "KEYWORD_RIGHT_TO_BE_FORGOTTEN",
		"KEYWORD_RISK_ENVIRONMENTAL_DAMAGE", "KEYWORD_RISK_PUBLIC_HEALTH", "KEYWORD_SELF_MUTILATION", "KEYWORD_STALKING",
		"KEYWORD_SUICIDE", KeywordTerrorist, "KEYWORD_TRADE_SECRET_INFRINGEMENT", "KEYWORD_TRADEMARK_INFRINGEMENT",
		"KEYWORD_TRAFFICKING_WOMEN_GIRLS", "KEYWORD_UNLAWFUL_SALE_ANIMALS", "KEYWORD_UNSAFE_CHALLENGES",
		"KEYWORD_UNSAFE_PRODUCTS", "KEYWORD_VIOLATION_EU_LAW", "KEYWORD_VIOLATION_NATIONAL_LAW", "KEYWORD_OTHER"}
	SourceTypes        = []string{SourceArticle16, SourceTrustedFlagger, SourceOther, SourceVoluntary}
	AutomatedDecisions = []string{"AUTOMATED_DECISION_FULLY", "AUTOMATED_DECISION_PARTIALLY", AutomatedNot}
	YesNo              = []string{"Yes", "No"}
	// EEA are the country codes territorial_scope accepts: the EU's 27 (Greece as GR) and
	// Iceland, Liechtenstein and Norway.
	EEA = []string{"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IS", "IT",
		"LI", "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK"}
	// Languages are the codes content_language accepts: ISO 639-1, upper case.
	Languages = []string{"AB", "AA", "AF", "AK", "SQ", "AM", "AR", "AN", "HY", "AS", "AV", "AE", "AY", "AZ", "BM", "BA", "EU",
		"BE", "BN", "BH", "BI", "BS", "BR", "BG", "MY", "CA", "KM", "CH", "CE", "NY", "ZH", "CU", "CV", "KW", "CO", "CR", "HR",
		"CS", "DA", "DV", "NL", "DZ", "EN", "EO", "ET", "EE", "FO", "FJ", "FI", "FR", "FF", "GD", "GL", "LG", "KA", "DE", "KI",
		"EL", "KL", "GN", "GU", "HT", "HA", "HE", "HZ", "HI", "HO", "HU", "IS", "IO", "IG", "ID", "IA", "IE", "IU", "IK", "GA",
		"IT", "JA", "JV", "KN", "KR", "KS", "KK", "RW", "KV", "KG", "KO", "KJ", "KU", "KY", "LO", "LA", "LV", "LB", "LI", "LN",
		"LT", "LU", "MK", "MG", "MS", "ML", "MT", "GV", "MI", "MR", "MH", "RO", "MN", "NA", "NV", "ND", "NG", "NE", "SE", "NO",
		"NB", "NN", "II", "OC", "OJ", "OR", "OM", "OS", "PI", "PA", "PS", "FA", "PL", "PT", "QU", "RM", "RN", "RU", "SM", "SG",
		"SA", "SC", "SR", "SN", "SD", "SI", "SK", "SL", "SO", "ST", "NR", "ES", "SU", "SW", "SS", "SV", "TL", "TY", "TG", "TA",
		"TT", "TE", "TH", "BO", "TI", "TO", "TS", "TN", "TR", "TK", "TW", "UG", "UK", "UR", "UZ", "VE", "VI", "VO", "WA", "CY",
		"FY", "WO", "XH", "YI", "YO", "ZA", "ZU"}
)

// Values docket names in its own code.
const (
	GroundIllegal        = "DECISION_GROUND_ILLEGAL_CONTENT"
	GroundIncompatible   = "DECISION_GROUND_INCOMPATIBLE_CONTENT"
	VisibilityRemoved    = "DECISION_VISIBILITY_CONTENT_REMOVED"
	VisibilityDisabled   = "DECISION_VISIBILITY_CONTENT_DISABLED"
	VisibilityOther      = "DECISION_VISIBILITY_OTHER"
	MonetaryOther        = "DECISION_MONETARY_OTHER"
	AccountSuspended     = "DECISION_ACCOUNT_SUSPENDED"
	AccountTerminated    = "DECISION_ACCOUNT_TERMINATED"
	ContentText          = "CONTENT_TYPE_TEXT"
	ContentOther         = "CONTENT_TYPE_OTHER"
	CategoryNotSpecified = "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE"
	CategoryOtherTC      = "STATEMENT_CATEGORY_OTHER_VIOLATION_TC"
	KeywordTerrorist     = "KEYWORD_TERRORIST_CONTENT"
	SourceArticle16      = "SOURCE_ARTICLE_16"
	SourceTrustedFlagger = "SOURCE_TRUSTED_FLAGGER"
	SourceOther          = "SOURCE_TYPE_OTHER_NOTIFICATION"
	SourceVoluntary      = "SOURCE_VOLUNTARY"
	AutomatedNot         = "AUTOMATED_DECISION_NOT_AUTOMATED"
)

// Limits of the API.
const (
	// MaxBatch is how many statements POST /api/v1/statements takes at once.
	MaxBatch = 100
	// MaxPUID is the longest puid.
	MaxPUID = 500
)

// InEEA reports whether code is a country code territorial_scope accepts.
func InEEA(code string) bool { return slices.Contains(EEA, code) }
