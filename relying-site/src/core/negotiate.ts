// Does a request prefer JSON to HTML? The Accept header read as Express's req.accepts(['html',
// 'json']) reads it (the negotiator rules): for each offer its best matching range (most
// specific, then highest q), then offers by q, specificity, position of the range in the
// header, and our order (HTML first). No header, or nothing acceptable: HTML.

const OFFERS = [
  ['text', 'html'],
  ['application', 'json'],
] as const;

interface Range {
  type: string;
  subtype: string;
  q: number;
  order: number;
}

export function prefersJson(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  const ranges = parseAccept(accept);
  const ranked = OFFERS.map(([type, subtype], index) => {
    let best = { q: 0, s: 0, o: -1 };
    for (const r of ranges) {
      if ((r.type !== type && r.type !== '*') || (r.subtype !== subtype && r.subtype !== '*')) {
        continue;
      }
      const candidate = {
        q: r.q,
        s: (r.type === type ? 4 : 0) + (r.subtype === subtype ? 2 : 0),
        o: r.order,
      };
      if ((best.s - candidate.s || best.q - candidate.q || best.o - candidate.o) < 0)
        best = candidate;
    }
    return { index, ...best };
  })
    .filter((offer) => offer.q > 0)
    .sort((a, b) => b.q - a.q || b.s - a.s || a.o - b.o || a.index - b.index);
  return ranked[0]?.index === 1;
}

function parseAccept(header: string): Range[] {
  const ranges: Range[] = [];
  header.split(',').forEach((part, order) => {
    const [range = '', ...params] = part.trim().split(';');
    const match = /^([^\s/]+)\/([^\s/]+)$/.exec(range.trim());
    if (!match) return;
    let q = 1;
    let otherParams = false;
    for (const param of params) {
      const eq = param.indexOf('=');
      const key = param.slice(0, eq).trim().toLowerCase();
      const value = param.slice(eq + 1).trim();
      // As negotiator: an unreadable q is NaN, which makes the range unacceptable.
      if (key === 'q') q = value === '' ? 1 : Number.parseFloat(value);
      else if (value !== '*') otherParams = true;
    }
    // A range with parameters (other than q) never matches our parameterless offers.
    if (otherParams) return;
    ranges.push({
      type: (match[1] ?? '').toLowerCase(),
      subtype: (match[2] ?? '').toLowerCase(),
      q,
      order,
    });
  });
  return ranges;
}
