/** Users: search, status filter, cursor paging, and the invitation form. */
import { useState } from 'preact/hooks';
import { call, getJson, query } from '../api';
import { Failure, Notice, Pager, useAction, useLoad, when } from '../ui';

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

interface UserSummary {
  id: string;
  email: string | null;
  nickname: string | null;
  status: string;
  createdAt: string;
}

interface Filters {
  q: string;
  status: string;
}

export function Users() {
  const [draft, setDraft] = useState<Filters>({ q: '', status: '' });
  const [filters, setFilters] = useState<Filters>({ q: '', status: '' });
  // The cursors of the pages before this one, so "Previous page" can go back.
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors.at(-1);
  const path = `/v1/admin/users${query({ q: filters.q, status: filters.status, limit: '20', cursor })}`;
  const page = useLoad(() => getJson<Page<UserSummary>>(path), path);

  return (
    <section aria-labelledby="users-title">
      <h1 id="users-title">Users</h1>
      <form
        role="search"
        onSubmit={(event) => {
          event.preventDefault();
          setCursors([]);
          setFilters({ ...draft });
        }}
      >
        <fieldset role="group">
          <input
            type="search"
            aria-label="Search by email or nickname"
            placeholder="Search by email or nickname"
            value={draft.q}
            onInput={(e) => setDraft({ ...draft, q: e.currentTarget.value })}
          />
          <select aria-label="Status" value={draft.status} onChange={(e) => setDraft({ ...draft, status: e.currentTarget.value })}>
            <option value="">Any status</option>
            <option value="active">Active</option>
            <option value="disabled">Disabled</option>
            <option value="withdrawn">Withdrawn</option>
          </select>
          <button type="submit">Search</button>
        </fieldset>
      </form>
      <Failure message={page.failure} />
      {page.data !== null && (
        <>
          <table>
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Nickname</th>
                <th scope="col">Status</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {page.data.items.map((user) => (
                <tr key={user.id}>
                  <td>
                    <a href={`#/users/${user.id}`}>{user.email ?? user.id}</a>
                  </td>
                  <td>{user.nickname ?? '-'}</td>
                  <td>{user.status}</td>
                  <td>{when(user.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {page.data.items.length === 0 && <p>No users match.</p>}
          <Pager cursors={cursors} nextCursor={page.data.nextCursor} onChange={setCursors} />
        </>
      )}
      <Invite onInvited={page.reload} />
    </section>
  );
}

function Invite({ onInvited }: { onInvited: () => void }) {
  const [email, setEmail] = useState('');
  const [nickname, setNickname] = useState('');
  const [groups, setGroups] = useState<string[]>([]);
  const all = useLoad(() => getJson<Array<{ name: string }>>('/v1/admin/groups'), 'groups');
  const action = useAction();
  const toggle = (name: string, on: boolean): void => setGroups(on ? [...groups, name] : groups.filter((g) => g !== name));
  return (
    <section aria-labelledby="invite-title">
      <h2 id="invite-title">Invite a user</h2>
      <p>Cognito emails a temporary password; the first sign-in asks for a new one.</p>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void action
            .run(async () => {
              const res = await call('POST', '/v1/admin/users', { email: email.trim(), nickname: nickname.trim(), groups });
              const user = (await res.json()) as { id: string; email: string };
              setEmail('');
              setNickname('');
              setGroups([]);
              return `Invited ${user.email}.`;
            })
            .then((ok) => ok && onInvited());
        }}
      >
        <div class="grid">
          <label>
            Email
            <input type="email" name="invite-email" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
          </label>
          <label>
            Nickname
            <input name="invite-nickname" required value={nickname} onInput={(e) => setNickname(e.currentTarget.value)} />
          </label>
        </div>
        {all.data !== null && all.data.length > 0 && (
          <fieldset>
            <legend>Groups</legend>
            {all.data.map((group) => (
              <label key={group.name}>
                <input
                  type="checkbox"
                  name="invite-groups"
                  value={group.name}
                  checked={groups.includes(group.name)}
                  onChange={(e) => toggle(group.name, e.currentTarget.checked)}
                />
                {group.name}
              </label>
            ))}
          </fieldset>
        )}
        <Failure message={all.failure} />
        <button type="submit" disabled={action.busy}>
          Invite
        </button>
      </form>
      <Failure message={action.failure} />
      <Notice message={action.notice} />
    </section>
  );
}
