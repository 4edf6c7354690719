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
// returns (docs/api.md). Products keep their own codes in their own tables.
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

// The errors with their messages, one constructor per code, in the order of
// the codes above. Client-supplied values reach them through Clip.

func ErrUnsupportedProtocol() *Error {
	return &Error{CodeUnsupportedProtocol, "HTTP(S) request protocol error; only GET and POST requests are supported."}
}

func ErrRequestSizeLimitExceeded(limit int64) *Error {
	return &Error{CodeRequestSizeLimitExceeded, fmt.Sprintf("The request size exceeds the limit of %d bytes for this kind of request.", limit)}
}

// ErrInvalidParameter: message is the whole message, a sentence.
func ErrInvalidParameter(message string) *Error { return &Error{CodeInvalidParameter, message} }

// ErrInvalidParameterValue: message is the whole message, a sentence.
func ErrInvalidParameterValue(message string) *Error {
	return &Error{CodeInvalidParameterValue, message}
}

func ErrMissingParameter(name string) *Error {
	return &Error{CodeMissingParameter, "The request is missing a required parameter `" + name + "`."}
}

func ErrInvalidAction(action string) *Error {
	return &Error{CodeInvalidAction, "The action `" + action + "` does not exist."}
}

func ErrNoSuchVersion(version, action string) *Error {
	return &Error{CodeNoSuchVersion, "The API version `" + version + "` does not exist for action `" + action + "`."}
}

func ErrUnsupportedRegion(action, region string) *Error {
	return &Error{CodeUnsupportedRegion, "The action `" + action + "` does not support the region `" + region + "`."}
}

func ErrInvalidAuthorization(why string) *Error {
	return &Error{CodeInvalidAuthorization, "The Authorization header is invalid: " + why + "."}
}

func ErrSignatureExpire(timestamp, now int64) *Error {
	return &Error{CodeSignatureExpire, fmt.Sprintf("The signature expired: Timestamp %d and the server time %d differ by more than %d seconds.",
		timestamp, now, int64(MaxClockSkew.Seconds()))}
}

func ErrSecretIDNotFound() *Error {
	return &Error{CodeSecretIDNotFound, "The SecretId is not found, please ensure that your SecretId is correct."}
}

func ErrSignatureFailure() *Error {
	return &Error{CodeSignatureFailure, "The provided credentials could not be validated. Please check your signature is correct."}
}

func ErrTokenFailure() *Error {
	return &Error{CodeTokenFailure, "The token is invalid: temporary credentials (Token) are not supported by this server."}
}

func ErrRequestLimitExceeded(count, limit int) *Error {
	return &Error{CodeRequestLimitExceeded, fmt.Sprintf("Your current request times equals to `%d` in a second, which exceeds the frequency limit `%d` for a second. Please reduce the frequency of calls.", count, limit)}
}

func ErrUnknownParameter(name string) *Error {
	return &Error{CodeUnknownParameter, "The parameter `" + name + "` is not recognized."}
}

func ErrInternalError() *Error {
	return &Error{CodeInternalError, "An internal error has occurred. Retry your request, but if the problem persists, contact us."}
}

func ErrServiceUnavailable(budget int64) *Error {
	return &Error{CodeServiceUnavailable, fmt.Sprintf("The server is busy: request bodies awaiting authentication have reached its budget of %d bytes. Retry the request later.", budget)}
}
