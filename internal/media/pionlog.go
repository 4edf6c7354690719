package media

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/pion/logging"
)

// pionLogs routes pion's warnings and errors to slog at debug level: they
// describe one peer's network trouble, not the server's health.
type pionLogs struct{ log *slog.Logger }

func (f pionLogs) NewLogger(scope string) logging.LeveledLogger {
	return pionLogger{f.log.With("pion", scope)}
}

type pionLogger struct{ log *slog.Logger }

func (l pionLogger) out(msg string) {
	if l.log.Enabled(context.Background(), slog.LevelDebug) {
		l.log.Debug(msg)
	}
}
func (l pionLogger) Trace(string)                      {}
func (l pionLogger) Tracef(string, ...any)             {}
func (l pionLogger) Debug(string)                      {}
func (l pionLogger) Debugf(string, ...any)             {}
func (l pionLogger) Info(string)                       {}
func (l pionLogger) Infof(string, ...any)              {}
func (l pionLogger) Warn(msg string)                   { l.out(msg) }
func (l pionLogger) Warnf(format string, args ...any)  { l.out(fmt.Sprintf(format, args...)) }
func (l pionLogger) Error(msg string)                  { l.out(msg) }
func (l pionLogger) Errorf(format string, args ...any) { l.out(fmt.Sprintf(format, args...)) }
