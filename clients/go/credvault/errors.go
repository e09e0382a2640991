package credvault

import (
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// FieldViolation is one bad request field and what is wrong with it.
type FieldViolation struct {
	Field       string
	Description string
}

// ErrorDetails is a failed call's status with its google.rpc details decoded.
type ErrorDetails struct {
	Code    codes.Code
	Message string
	// Reason is ErrorInfo's machine-readable reason, e.g. "CREDENTIALS_REJECTED"; "" when none.
	Reason     string
	Domain     string
	Metadata   map[string]string
	Violations []FieldViolation
	// RetryAfter is RetryInfo's delay; 0 when the server sent none.
	RetryAfter time.Duration
	HelpLinks  []string
}

// Details decodes err's gRPC status and its ErrorInfo, BadRequest, RetryInfo and Help details.
func Details(err error) ErrorDetails {
	s := status.Convert(err)
	found := ErrorDetails{Code: s.Code(), Message: s.Message(), Metadata: map[string]string{}}
	for _, detail := range s.Details() {
		switch d := detail.(type) {
		case *errdetails.ErrorInfo:
			found.Reason, found.Domain = d.GetReason(), d.GetDomain()
			for k, v := range d.GetMetadata() {
				found.Metadata[k] = v
			}
		case *errdetails.BadRequest:
			for _, v := range d.GetFieldViolations() {
				found.Violations = append(found.Violations, FieldViolation{v.GetField(), v.GetDescription()})
			}
		case *errdetails.RetryInfo:
			delay := d.GetRetryDelay()
			found.RetryAfter = time.Duration(delay.GetSeconds())*time.Second + time.Duration(delay.GetNanos())
		case *errdetails.Help:
			for _, link := range d.GetLinks() {
				found.HelpLinks = append(found.HelpLinks, link.GetUrl())
			}
		}
	}
	return found
}
