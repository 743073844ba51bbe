/** The audit log: newest first, filtered, paged; every matching entry exported as CSV or JSON Lines. */
import { useState } from 'preact/hooks';
import { getJson, query, request } from '../api';
import { Failure, Notice, Pager, useAction, useLoad, when } from '../ui';
import type { Page } from './users';
import { KNOWN_AUDIT_ACTIONS } from '../../../src/admin/audit-actions';

interface AuditEntry {
  id: string;
  actorId: string | null;
  action: string;
  targetUserId: string | null;
  details: unknown;
  createdAt: string;
}

interface Filters {
  action: string;
  actorId: string;
  targetUserId: string;
  from: string;
  to: string;
}

const EMPTY: Filters = { action: '', actorId: '', targetUserId: '', from: '', to: '' };

/** A datetime-local value (the browser's time zone) as an ISO-8601 instant, which the API wants. */
function instant(local: string): string | undefined {
  if (local === '') {
    return undefined;
  }
  const date = new Date(local);
  return Number.isNaN(date.getTime()) ? local : date.toISOString();
}

function filterQuery(filters: Filters): Record<string, string | undefined> {
  return {
    action: filters.action.trim(),
    actorId: filters.actorId.trim(),
    targetUserId: filters.targetUserId.trim(),
    from: instant(filters.from),
    to: instant(filters.to),
  };
}

/** Fetched with the bearer token (never in a URL), then saved from a Blob URL of this origin. */
async function download(format: 'csv' | 'jsonl', filters: Filters): Promise<string> {
  const res = await request('GET', `/v1/admin/audit-log/export${query({ format, ...filterQuery(filters) })}`);
  const blob = await res.blob();
  const name = `audit-log.${format}`;
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return `Exported ${name} (${blob.size} bytes).`;
}

const FIELDS: Array<[keyof Filters, string, 'text' | 'datetime-local']> = [
  ['action', 'Action', 'text'],
  ['actorId', 'Actor id', 'text'],
  ['targetUserId', 'Target user id', 'text'],
  ['from', 'From', 'datetime-local'],
  ['to', 'To (exclusive)', 'datetime-local'],
];

export function AuditLog() {
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const [cursors, setCursors] = useState<string[]>([]);
  const path = `/v1/admin/audit-log${query({ ...filterQuery(filters), limit: '20', cursor: cursors.at(-1) })}`;
  const page = useLoad(() => getJson<Page<AuditEntry>>(path), path);
  const exporting = useAction();

  return (
    <section aria-labelledby="audit-title">
      <h1 id="audit-title">Audit log</h1>
      <form
        aria-label="Audit log filters"
        onSubmit={(event) => {
          event.preventDefault();
          setCursors([]);
          setFilters({ ...draft });
        }}
      >
        <div class="grid filters">
          {FIELDS.map(([key, label, type]) => (
            <label key={key}>
              {label}
              {type === 'text' ? (
                <input
                  name={key}
                  type="text"
                  list={key === 'action' ? 'audit-actions' : undefined}
                  value={draft[key]}
                  onInput={(e) => setDraft({ ...draft, [key]: e.currentTarget.value })}
                />
              ) : (
                <input
                  name={key}
                  type="datetime-local"
                  step="1"
                  value={draft[key]}
                  onInput={(e) => setDraft({ ...draft, [key]: e.currentTarget.value })}
                />
              )}
            </label>
          ))}
        </div>
        <datalist id="audit-actions">
          {KNOWN_AUDIT_ACTIONS.map((action) => (
            <option key={action} value={action} />
          ))}
        </datalist>
        <div class="pager">
          <button type="submit">Apply filters</button>
          <button
            type="button"
            class="secondary"
            onClick={() => {
              setDraft(EMPTY);
              setFilters(EMPTY);
              setCursors([]);
            }}
          >
            Clear filters
          </button>
          <button
            type="button"
            class="outline"
            disabled={exporting.busy}
            onClick={() => void exporting.run(() => download('csv', filters))}
          >
            Export CSV
          </button>
          <button
            type="button"
            class="outline"
            disabled={exporting.busy}
            onClick={() => void exporting.run(() => download('jsonl', filters))}
          >
            Export JSON Lines
          </button>
        </div>
      </form>
      <p class="hint">The export holds every entry matching the applied filters, not only this page.</p>
      <Failure message={exporting.failure} />
      <Notice message={exporting.notice} />
      <Failure message={page.failure} />
      {page.data !== null && (
        <>
          <div class="overflow-auto">
            <table>
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  <th scope="col">Action</th>
                  <th scope="col">Actor</th>
                  <th scope="col">Target</th>
                  <th scope="col">Details</th>
                </tr>
              </thead>
              <tbody>
                {page.data.items.map((entry) => (
                  <tr key={entry.id}>
                    <td>{when(entry.createdAt)}</td>
                    <td>{entry.action}</td>
                    <td>{entry.actorId === null ? '-' : <a href={`#/users/${entry.actorId}`}>{entry.actorId}</a>}</td>
                    <td>{entry.targetUserId === null ? '-' : <a href={`#/users/${entry.targetUserId}`}>{entry.targetUserId}</a>}</td>
                    <td>
                      <code>{JSON.stringify(entry.details)}</code>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {page.data.items.length === 0 && <p>No entries match.</p>}
          <Pager cursors={cursors} nextCursor={page.data.nextCursor} onChange={setCursors} />
        </>
      )}
    </section>
  );
}
