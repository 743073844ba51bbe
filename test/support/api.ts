import { AdminApi } from './api/admin';
import { AuthApi, PublicAuthApi } from './api/auth';
import { CommentsApi, PostsApi } from './api/posts';
import { Http, Sender } from './api/sender';
import { UploadsApi } from './api/uploads';
import { UsersApi } from './api/users';

/**
 * The routes the e2e specs call, typed: `t.api.as(alice).posts.create(...)` gives the raw
 * supertest answer to assert on (status, headers, body); the `...ed` methods (`posts.created`,
 * `auth.loggedIn`) assert the success status and give the typed body, for a spec that only needs
 * a fixture. One file per route family under `api/`. Requests that are wrong on purpose at the
 * HTTP level (raw bytes, odd headers or content types) stay hand-built in the specs.
 */
export class Api {
  /** The public auth routes (login, refresh, challenge, password reset): no token. */
  readonly auth: PublicAuthApi;

  constructor(private readonly http: Http) {
    this.auth = new PublicAuthApi(new Sender(http));
  }

  /** Calls as this user, or with this access token (a forged or stale one too). */
  as(caller: { accessToken: string } | string): CallerApi {
    return new CallerApi(new Sender(this.http, typeof caller === 'string' ? caller : caller.accessToken));
  }
}

export class CallerApi {
  readonly auth: AuthApi;
  readonly users: UsersApi;
  readonly posts: PostsApi;
  readonly comments: CommentsApi;
  readonly uploads: UploadsApi;
  readonly admin: AdminApi;

  constructor(send: Sender) {
    this.auth = new AuthApi(send);
    this.users = new UsersApi(send);
    this.posts = new PostsApi(send);
    this.comments = new CommentsApi(send);
    this.uploads = new UploadsApi(send);
    this.admin = new AdminApi(send);
  }
}
