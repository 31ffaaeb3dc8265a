package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/kelseyhightower/envconfig"

	"github.com/certops/certops/internal/secret"
	"github.com/certops/certops/internal/store"
)

// Migrate is every binary's --migrate-only: it brings the configured
// database up to the schema this binary embeds, then returns, so that an
// upgrade can migrate before the first new pod starts (manifests/base's
// certops-migrate CronJob, run with kubectl create job --from). The store
// migrates the same way at start-up (internal/store/migrate.go); on
// PostgreSQL replicas and a migration running together take turns through
// an advisory lock, and an up-to-date database is left as it is.
//
// It reads only the database settings: DATABASE_URL or DATABASE_URL_FILE,
// else the SQLite file sqlitePath (the --sqlite flag), CERTOPS_SQLITE_PATH
// or DefaultSQLitePath. SailPoint and Slack settings are not needed.
func Migrate(ctx context.Context, sqlitePath string, logger *slog.Logger) error {
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	var c struct {
		DatabaseURL     string `envconfig:"DATABASE_URL"`
		DatabaseURLFile string `envconfig:"DATABASE_URL_FILE"`
		SQLitePath      string `envconfig:"CERTOPS_SQLITE_PATH"`
	}
	if err := envconfig.Process("", &c); err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	if c.DatabaseURLFile != "" {
		if c.DatabaseURL != "" {
			return errors.New("configuration: DATABASE_URL and DATABASE_URL_FILE are both set: set only one")
		}
		f, err := secret.OpenFile("DATABASE_URL_FILE", c.DatabaseURLFile, secret.Options{})
		if err != nil {
			return fmt.Errorf("configuration: %w", err)
		}
		c.DatabaseURL = f.Value()
	}
	path := cmp.Or(sqlitePath, c.SQLitePath, DefaultSQLitePath)
	st, err := store.Open(ctx, c.DatabaseURL, path, store.Options{Logger: logger})
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if err := st.Close(); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	logger.Info("database schema up to date (--migrate-only)")
	return nil
}
