/** One user: profile, groups, disable / enable, delete (after typing the email), sessions. */
import { useState } from 'preact/hooks';
import { call, getJson } from '../api';
import { Failure, Notice, useAction, useLoad, when } from '../ui';

interface UserDetailBody {
  id: string;
  email: string | null;
  nickname: string | null;
  phoneNumber: string | null;
  status: string;
  groups: string[];
  enabled: boolean;
  createdAt: string;
}

interface Group {
  name: string;
}

interface Session {
  id: string;
  createdAt: string;
  lastSeenAt: string;
  userAgent: string | null;
  ipAddress: string | null;
}

export function UserDetail({ id }: { id: string }) {
  const user = useLoad(() => getJson<UserDetailBody>(`/v1/admin/users/${id}`), id);
  const [deleted, setDeleted] = useState<string | null>(null);
  if (deleted !== null) {
    return (
      <section>
        <h1>User deleted</h1>
        <Notice message={`${deleted} was deleted.`} />
        <a href="#/users">Back to users</a>
      </section>
    );
  }
  return (
    <section aria-labelledby="user-title">
      <p>
        <a href="#/users">Back to users</a>
      </p>
      <h1 id="user-title">{user.data?.email ?? 'User'}</h1>
      <Failure message={user.failure} />
      {user.data !== null && (
        <>
          <Profile user={user.data} />
          <Access user={user.data} onChanged={user.reload} />
          <Groups user={user.data} onChanged={user.reload} />
          <Sessions id={id} />
          <Delete user={user.data} onDeleted={() => setDeleted(user.data?.email ?? id)} />
        </>
      )}
    </section>
  );
}

function Profile({ user }: { user: UserDetailBody }) {
  const rows: Array<[string, string]> = [
    ['Id', user.id],
    ['Email', user.email ?? '-'],
    ['Nickname', user.nickname ?? '-'],
    ['Phone number', user.phoneNumber ?? '-'],
    ['Status', user.status],
    ['Sign-in', user.enabled ? 'enabled' : 'disabled'],
    ['Created', when(user.createdAt)],
  ];
  return (
    <dl class="profile">
      {rows.map(([term, value]) => (
        <div key={term}>
          <dt>{term}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

function Access({ user, onChanged }: { user: UserDetailBody; onChanged: () => void }) {
  const action = useAction();
  const verb = user.enabled ? 'disable' : 'enable';
  return (
    <section aria-labelledby="access-title">
      <h2 id="access-title">Access</h2>
      <button
        type="button"
        class={user.enabled ? 'contrast' : undefined}
        disabled={action.busy}
        onClick={() =>
          void action
            .run(async () => {
              await call('POST', `/v1/admin/users/${user.id}/${verb}`);
              return user.enabled ? 'The user is disabled.' : 'The user is enabled.';
            })
            .then((ok) => ok && onChanged())
        }
      >
        {user.enabled ? 'Disable user' : 'Enable user'}
      </button>
      <Failure message={action.failure} />
      <Notice message={action.notice} />
    </section>
  );
}

function Groups({ user, onChanged }: { user: UserDetailBody; onChanged: () => void }) {
  const all = useLoad(() => getJson<Group[]>('/v1/admin/groups'), 'groups');
  const [adding, setAdding] = useState('');
  const action = useAction();
  const others = (all.data ?? []).filter((group) => !user.groups.includes(group.name));
  const change = (method: 'PUT' | 'DELETE', name: string, done: string): void =>
    void action
      .run(async () => {
        await call(method, `/v1/admin/users/${user.id}/groups/${encodeURIComponent(name)}`);
        return done;
      })
      .then((ok) => ok && onChanged());
  return (
    <section aria-labelledby="groups-title">
      <h2 id="groups-title">Groups</h2>
      {user.groups.length === 0 ? (
        <p>In no group.</p>
      ) : (
        <ul class="chips">
          {user.groups.map((name) => (
            <li key={name}>
              {name}{' '}
              <button
                type="button"
                class="outline secondary small"
                aria-label={`Remove from group ${name}`}
                disabled={action.busy}
                onClick={() => change('DELETE', name, `Removed from ${name}.`)}
              >
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
      <Failure message={all.failure} />
      <form
        onSubmit={(event) => {
          event.preventDefault();
          if (adding !== '') {
            change('PUT', adding, `Added to ${adding}.`);
          }
        }}
      >
        <fieldset role="group">
          <select aria-label="Group to add" value={adding} onChange={(e) => setAdding(e.currentTarget.value)}>
            <option value="">Choose a group</option>
            {others.map((group) => (
              <option key={group.name} value={group.name}>
                {group.name}
              </option>
            ))}
          </select>
          <button type="submit" disabled={action.busy || adding === ''}>
            Add to group
          </button>
        </fieldset>
      </form>
      <Failure message={action.failure} />
      <Notice message={action.notice} />
    </section>
  );
}

function Sessions({ id }: { id: string }) {
  const sessions = useLoad(() => getJson<{ items: Session[] }>(`/v1/admin/users/${id}/sessions`), id);
  const action = useAction();
  return (
    <section aria-labelledby="sessions-title">
      <h2 id="sessions-title">Sessions</h2>
      <Failure message={sessions.failure} />
      {sessions.data !== null && sessions.data.items.length === 0 && <p>No open sessions.</p>}
      {sessions.data !== null && sessions.data.items.length > 0 && (
        <table>
          <thead>
            <tr>
              <th scope="col">Signed in</th>
              <th scope="col">Last seen</th>
              <th scope="col">Browser or app</th>
              <th scope="col">IP address</th>
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {sessions.data.items.map((session) => (
              <tr key={session.id}>
                <td>{when(session.createdAt)}</td>
                <td>{when(session.lastSeenAt)}</td>
                <td>{session.userAgent ?? '-'}</td>
                <td>{session.ipAddress ?? '-'}</td>
                <td>
                  <button
                    type="button"
                    class="outline small"
                    aria-label={`End session signed in ${when(session.createdAt)}`}
                    disabled={action.busy}
                    onClick={() =>
                      void action
                        .run(async () => {
                          await call('DELETE', `/v1/admin/users/${id}/sessions/${session.id}`);
                          return 'Session ended.';
                        })
                        .then((ok) => ok && sessions.reload())
                    }
                  >
                    End session
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Failure message={action.failure} />
      <Notice message={action.notice} />
    </section>
  );
}

function Delete({ user, onDeleted }: { user: UserDetailBody; onDeleted: () => void }) {
  const [typed, setTyped] = useState('');
  const action = useAction();
  const expected = user.email ?? user.id;
  return (
    <section aria-labelledby="delete-title">
      <h2 id="delete-title">Delete</h2>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void action
            .run(async () => {
              await call('DELETE', `/v1/admin/users/${user.id}`);
            })
            .then((ok) => ok && onDeleted());
        }}
      >
        <label>
          Type {expected} to confirm
          <input name="confirm-email" autocomplete="off" value={typed} onInput={(e) => setTyped(e.currentTarget.value)} />
        </label>
        <button type="submit" class="contrast" disabled={action.busy || typed.trim() !== expected}>
          Delete user
        </button>
      </form>
      <Failure message={action.failure} />
    </section>
  );
}
