package cloudapi

import "fmt"

// Error is an API error as the cloud reports it: a stable Code (the cloud's
// Error.Code string) and an English message. Handlers return *Error values;
// anything else becomes InternalError.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// The common error codes of Tencent Cloud API 3.0 that the front door itself
// returns. Products add their own codes in their own tables.
const (
	CodeUnsupportedProtocol      = "UnsupportedProtocol"
	CodeRequestSizeLimitExceeded = "RequestSizeLimitExceeded"
	CodeInvalidParameter         = "InvalidParameter"
	CodeInvalidParameterValue    = "InvalidParameterValue"
	CodeMissingParameter         = "MissingParameter"
	CodeInvalidAction            = "InvalidAction"
	CodeNoSuchVersion            = "NoSuchVersion"
	CodeUnsupportedRegion        = "UnsupportedRegion"
	CodeInvalidAuthorization     = "AuthFailure.InvalidAuthorization"
	CodeSignatureExpire          = "AuthFailure.SignatureExpire"
	CodeSecretIDNotFound         = "AuthFailure.SecretIdNotFound"
	CodeSignatureFailure         = "AuthFailure.SignatureFailure"
	CodeTokenFailure             = "AuthFailure.TokenFailure"
	CodeRequestLimitExceeded     = "RequestLimitExceeded"
	CodeUnknownParameter         = "UnknownParameter"
	CodeInternalError            = "InternalError"
	CodeServiceUnavailable       = "ServiceUnavailable"
)

// messages is the one table of message templates for the common codes. A
// template's verbs are filled by Errorf; an entry without verbs is complete.
var messages = map[string]string{
	CodeUnsupportedProtocol:      "HTTP(S) request protocol error; only GET and POST requests are supported.",
	CodeRequestSizeLimitExceeded: "The request size exceeds the limit of %d bytes for this kind of request.",
	CodeInvalidParameter:         "%s",
	CodeInvalidParameterValue:    "%s",
	CodeMissingParameter:         "The request is missing a required parameter `%s`.",
	CodeInvalidAction:            "The action `%s` does not exist.",
	CodeNoSuchVersion:            "The API version `%s` does not exist for action `%s`.",
	CodeUnsupportedRegion:        "The action `%s` does not support the region `%s`.",
	CodeInvalidAuthorization:     "The Authorization header is invalid: %s.",
	CodeSignatureExpire:          "The signature expired: Timestamp %d and the server time %d differ by more than 300 seconds.",
	CodeSecretIDNotFound:         "The SecretId is not found, please ensure that your SecretId is correct.",
	CodeSignatureFailure:         "The provided credentials could not be validated. Please check your signature is correct.",
	CodeTokenFailure:             "The token is invalid: temporary credentials (Token) are not supported by this server.",
	CodeRequestLimitExceeded:     "Your current request times equals to `%d` in a second, which exceeds the frequency limit `%d` for a second. Please reduce the frequency of calls.",
	CodeUnknownParameter:         "The parameter `%s` is not recognized.",
	CodeInternalError:            "An internal error has occurred. Retry your request, but if the problem persists, contact us.",
	CodeServiceUnavailable:       "The server is busy: request bodies awaiting authentication have reached its budget of %d bytes. Retry the request later.",
}

// NewError returns the error for code with its template filled by args. A
// code missing from the table is a programming error and panics in tests
// quickly; products register their codes with RegisterMessages.
func NewError(code string, args ...any) *Error {
	tmpl, ok := messages[code]
	if !ok {
		panic("cloudapi: no message for error code " + code)
	}
	if len(args) == 0 {
		return &Error{Code: code, Message: tmpl}
	}
	return &Error{Code: code, Message: fmt.Sprintf(tmpl, args...)}
}

// RegisterMessages adds a product's error table. It is called from package
// init functions, before any request is served.
func RegisterMessages(table map[string]string) {
	for code, msg := range table {
		if _, dup := messages[code]; dup {
			panic("cloudapi: error code registered twice: " + code)
		}
		messages[code] = msg
	}
}
