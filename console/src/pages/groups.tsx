/** Groups: list, create, delete (never `admin`), and each group's members. */
import { useState } from 'preact/hooks';
import { call, getJson } from '../api';
import { Failure, Notice, useAction, useLoad } from '../ui';

interface Group {
  name: string;
  description: string | null;
  precedence: number | null;
}

interface Member {
  id: string;
  email: string | null;
  nickname: string | null;
}

const PROTECTED = 'admin';

export function Groups() {
  const groups = useLoad(() => getJson<Group[]>('/v1/admin/groups'), 'groups');
  const [open, setOpen] = useState<string | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  const action = useAction();
  const remove = (name: string): void =>
    void action
      .run(async () => {
        await call('DELETE', `/v1/admin/groups/${encodeURIComponent(name)}`);
        return `Deleted the group ${name}.`;
      })
      .then((ok) => {
        setConfirming(null);
        if (ok) {
          groups.reload();
        }
      });
  return (
    <section aria-labelledby="groups-title">
      <h1 id="groups-title">Groups</h1>
      <Failure message={groups.failure} />
      <Failure message={action.failure} />
      <Notice message={action.notice} />
      {groups.data !== null && (
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Description</th>
              <th scope="col">Precedence</th>
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {groups.data.map((group) => (
              <tr key={group.name}>
                <td>{group.name}</td>
                <td>{group.description ?? '-'}</td>
                <td>{group.precedence ?? '-'}</td>
                <td class="actions">
                  <button
                    type="button"
                    class="outline secondary small"
                    aria-expanded={open === group.name}
                    aria-label={`Members of ${group.name}`}
                    onClick={() => setOpen(open === group.name ? null : group.name)}
                  >
                    Members
                  </button>
                  {group.name !== PROTECTED &&
                    (confirming === group.name ? (
                      <button type="button" class="contrast small" disabled={action.busy} onClick={() => remove(group.name)}>
                        Confirm deleting {group.name}
                      </button>
                    ) : (
                      <button
                        type="button"
                        class="outline contrast small"
                        aria-label={`Delete group ${group.name}`}
                        onClick={() => setConfirming(group.name)}
                      >
                        Delete
                      </button>
                    ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {open !== null && <Members name={open} />}
      <CreateGroup onCreated={groups.reload} />
    </section>
  );
}

function Members({ name }: { name: string }) {
  const members = useLoad(() => getJson<Member[]>(`/v1/admin/groups/${encodeURIComponent(name)}/users`), name);
  return (
    <section aria-labelledby="members-title">
      <h2 id="members-title">Members of {name}</h2>
      <Failure message={members.failure} />
      {members.data !== null &&
        (members.data.length === 0 ? (
          <p>No members.</p>
        ) : (
          <ul aria-labelledby="members-title">
            {members.data.map((member) => (
              <li key={member.id}>
                <a href={`#/users/${member.id}`}>{member.email ?? member.id}</a> {member.nickname === null ? '' : `(${member.nickname})`}
              </li>
            ))}
          </ul>
        ))}
    </section>
  );
}

function CreateGroup({ onCreated }: { onCreated: () => void }) {
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [precedence, setPrecedence] = useState('');
  const action = useAction();
  return (
    <section aria-labelledby="create-group-title">
      <h2 id="create-group-title">Create a group</h2>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          const body: Record<string, unknown> = { name: name.trim() };
          if (description.trim() !== '') {
            body.description = description.trim();
          }
          if (precedence.trim() !== '') {
            body.precedence = Number(precedence);
          }
          void action
            .run(async () => {
              await call('POST', '/v1/admin/groups', body);
              setName('');
              setDescription('');
              setPrecedence('');
              return `Created the group ${String(body.name)}.`;
            })
            .then((ok) => ok && onCreated());
        }}
      >
        <div class="grid">
          <label>
            Name
            <input name="group-name" required value={name} onInput={(e) => setName(e.currentTarget.value)} />
          </label>
          <label>
            Description
            <input name="group-description" value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
          </label>
          <label>
            Precedence
            <input
              name="group-precedence"
              type="number"
              min="0"
              step="1"
              value={precedence}
              onInput={(e) => setPrecedence(e.currentTarget.value)}
            />
          </label>
        </div>
        <button type="submit" disabled={action.busy}>
          Create group
        </button>
      </form>
      <Failure message={action.failure} />
      <Notice message={action.notice} />
    </section>
  );
}
