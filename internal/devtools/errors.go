package devtools

import (
	"fmt"

	"github.com/trtcd/trtcd/internal/cloudapi"
)

// The developer tools' own error codes (docs/devtools.md); bad parameters
// answer the common codes (MissingParameter, InvalidParameterValue).
const (
	CodeJournalDisabled = "FailedOperation.JournalDisabled"
	CodeFaultsDisabled  = "FailedOperation.FaultsDisabled"
	CodeFaultLimit      = "LimitExceeded.Faults"
	CodeFaultNotFound   = "ResourceNotFound.Fault"
)

func ErrJournalDisabled() *cloudapi.Error {
	return &cloudapi.Error{Code: CodeJournalDisabled, Message: "The request journal is off on this server (devtools.journal in the configuration)."}
}

func ErrFaultsDisabled() *cloudapi.Error {
	return &cloudapi.Error{Code: CodeFaultsDisabled, Message: "Fault injection is off on this server (devtools.faults in the configuration)."}
}

func ErrFaultLimit() *cloudapi.Error {
	return &cloudapi.Error{Code: CodeFaultLimit, Message: fmt.Sprintf("The account already has %d faults, the most it may hold; clear some first.", MaxFaultsPerAccount)}
}

func ErrFaultNotFound(id string) *cloudapi.Error {
	return &cloudapi.Error{Code: CodeFaultNotFound, Message: "The fault `" + id + "` does not exist (or has expired)."}
}
