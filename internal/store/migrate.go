package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/pressly/goose/v3"
)

// migrations holds one folder of goose SQL migrations per engine. A change
// to the schema is a new numbered file in both folders.
//
//go:embed migrations
var migrations embed.FS

// migrationTable is goose's version table, named for certops so a schema
// shared with another goose user keeps the two apart.
const migrationTable = "certops_schema_version"

// migrate brings the database up to the newest migration of dir. It is a
// no-op on an up-to-date database. extra adds engine options (PostgreSQL's
// lock, so replicas starting together take turns).
func migrate(ctx context.Context, db *sql.DB, dialect goose.Dialect, dir string, log *slog.Logger, extra ...goose.ProviderOption) error {
	fsys, err := fs.Sub(migrations, "migrations/"+dir)
	if err != nil {
		return fmt.Errorf("migrations for %s: %w", dir, err)
	}
	opts := append([]goose.ProviderOption{
		goose.WithTableName(migrationTable),
		goose.WithDisableGlobalRegistry(true),
	}, extra...)
	p, err := goose.NewProvider(dialect, db, fsys, opts...)
	if err != nil {
		return fmt.Errorf("migrations for %s: %w", dir, err)
	}
	results, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("migrate %s: %w", dir, err)
	}
	for _, r := range results {
		log.Info("applied database migration", "engine", dir, "migration", r.Source.Path, "took", r.Duration)
	}
	return nil
}
