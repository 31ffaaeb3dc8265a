package sailpoint

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/certops/certops/internal/certs"
)

// pageFunc fetches one page of a collection.
type pageFunc[T any] func(ctx context.Context, p certs.PageOptions) (certs.Page[T], error)

func effectiveLimit(p certs.PageOptions) int {
	if p.Limit == 0 {
		return certs.DefaultPageLimit
	}
	return p.Limit
}

// addPage writes the standard collection parameters.
func addPage(q url.Values, p certs.PageOptions) {
	q.Set("limit", strconv.Itoa(effectiveLimit(p)))
	q.Set("offset", strconv.Itoa(p.Offset))
	if p.Count {
		q.Set("count", "true")
	}
}

// getPage makes a list call and maps its items; Total is X-Total-Count when
// p.Count was set, else -1.
func getPage[D interface{ domain() T }, T any](ctx context.Context, c *Client, req *request, p certs.PageOptions) (certs.Page[T], error) {
	var dtos []D
	header, err := c.send(ctx, req, &dtos)
	if err != nil {
		return certs.Page[T]{}, err
	}
	return certs.Page[T]{Items: mapAll[D, T](dtos), Total: totalCount(header, p.Count)}, nil
}

func totalCount(h http.Header, asked bool) int {
	if !asked {
		return -1
	}
	n, err := strconv.Atoi(strings.TrimSpace(h.Get("X-Total-Count")))
	if err != nil || n < 0 {
		return -1
	}
	return n
}

// listAll returns every item from start.Offset on, in pages of start.Limit
// (0: 250). The first page asks for the total (count=true); the other pages
// are then fetched concurrently, at most Config.Concurrency at once, and
// joined in order. The first failure fails the whole read (SailPoint's
// error, its status and tracking id kept) and stops the pages not yet
// started. Without a total it falls back to one page after another.
//
// Offset paging over a collection that changes meanwhile can skip or repeat
// an item; that is ISC's model, and the same for a sequential loop.
func listAll[T any](ctx context.Context, c *Client, fetch pageFunc[T], start certs.PageOptions) ([]T, error) {
	if err := start.Validate(); err != nil {
		return nil, err
	}
	limit := effectiveLimit(start)
	first, err := fetch(ctx, certs.PageOptions{Offset: start.Offset, Limit: limit, Count: true})
	if err != nil {
		return nil, err
	}
	items := first.Items
	if len(first.Items) < limit {
		return items, nil
	}
	next := start.Offset + limit
	if first.Total >= 0 {
		var offsets []int
		for off := next; off < first.Total; off += limit {
			offsets = append(offsets, off)
		}
		results := make([][]T, len(offsets))
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(c.cfg.Concurrency)
		for i, off := range offsets {
			if gctx.Err() != nil {
				break // a page failed: start no more
			}
			g.Go(func() error {
				page, err := fetch(gctx, certs.PageOptions{Offset: off, Limit: limit})
				results[i] = page.Items
				return err
			})
		}
		if err := g.Wait(); err != nil {
			return nil, err
		}
		if err := ctx.Err(); err != nil {
			return nil, canceled("list-all", err)
		}
		for _, r := range results {
			items = append(items, r...)
		}
		// The count is trusted: an item added after it is a race that a
		// sequential loop can lose as well, and one more request per
		// listing would cost under the rate limit.
		return items, nil
	}
	for p := (certs.PageOptions{Offset: next, Limit: limit}); ; p.Offset += limit {
		page, err := fetch(ctx, p)
		if err != nil {
			return nil, err
		}
		items = append(items, page.Items...)
		if len(page.Items) < limit {
			return items, nil
		}
	}
}
