package cloudapi

import "testing"

// TestErrorConstructors: each code's constructor gives the code and the
// message, byte for byte as the cloud-compatible table has it.
func TestErrorConstructors(t *testing.T) {
	for _, c := range []struct {
		e          *Error
		code, want string
	}{
		{ErrUnsupportedProtocol(), "UnsupportedProtocol", "HTTP(S) request protocol error; only GET and POST requests are supported."},
		{ErrRequestSizeLimitExceeded(32768), "RequestSizeLimitExceeded", "The request size exceeds the limit of 32768 bytes for this kind of request."},
		{ErrInvalidParameter("The request body is not a JSON object."), "InvalidParameter", "The request body is not a JSON object."},
		{ErrInvalidParameterValue("Language must be zh-CN or en-US."), "InvalidParameterValue", "Language must be zh-CN or en-US."},
		{ErrMissingParameter("Region"), "MissingParameter", "The request is missing a required parameter `Region`."},
		{ErrInvalidAction("Nope"), "InvalidAction", "The action `Nope` does not exist."},
		{ErrNoSuchVersion("2000-01-01", "RemoveUser"), "NoSuchVersion", "The API version `2000-01-01` does not exist for action `RemoveUser`."},
		{ErrUnsupportedRegion("RemoveUser", "mars-1"), "UnsupportedRegion", "The action `RemoveUser` does not support the region `mars-1`."},
		{ErrInvalidAuthorization("no Credential"), "AuthFailure.InvalidAuthorization", "The Authorization header is invalid: no Credential."},
		{ErrSignatureExpire(1000, 2000), "AuthFailure.SignatureExpire", "The signature expired: Timestamp 1000 and the server time 2000 differ by more than 300 seconds."},
		{ErrSecretIDNotFound(), "AuthFailure.SecretIdNotFound", "The SecretId is not found, please ensure that your SecretId is correct."},
		{ErrSignatureFailure(), "AuthFailure.SignatureFailure", "The provided credentials could not be validated. Please check your signature is correct."},
		{ErrTokenFailure(), "AuthFailure.TokenFailure", "The token is invalid: temporary credentials (Token) are not supported by this server."},
		{ErrRequestLimitExceeded(21, 20), "RequestLimitExceeded", "Your current request times equals to `21` in a second, which exceeds the frequency limit `20` for a second. Please reduce the frequency of calls."},
		{ErrUnknownParameter("Foo"), "UnknownParameter", "The parameter `Foo` is not recognized."},
		{ErrInternalError(), "InternalError", "An internal error has occurred. Retry your request, but if the problem persists, contact us."},
		{ErrServiceUnavailable(1024), "ServiceUnavailable", "The server is busy: request bodies awaiting authentication have reached its budget of 1024 bytes. Retry the request later."},
	} {
		if c.e.Code != c.code || c.e.Message != c.want {
			t.Errorf("got %s: %q\nwant %s: %q", c.e.Code, c.e.Message, c.code, c.want)
		}
	}
}
