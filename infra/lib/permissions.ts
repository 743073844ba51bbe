/**
 * What the API's code sends to AWS, and what its task role must therefore allow.
 * The infra tests read the SDK imports of ../src and fail when a command appears here in neither
 * list, so a new call cannot ship without its permission (or a stated reason it needs none).
 */

/** Cognito commands authorized by IAM: granted on the user pool ARN only. */
export const COGNITO_IAM_ACTIONS: readonly string[] = [
  'AdminAddUserToGroup',
  'AdminCreateUser',
  'AdminDeleteUser',
  'AdminDisableUser',
  'AdminEnableUser',
  'AdminGetUser',
  'AdminListGroupsForUser',
  'AdminRemoveUserFromGroup',
  'AdminUserGlobalSignOut',
  'CreateGroup',
  'DeleteGroup',
  'DescribeUserPoolClient',
  'GetGroup',
  'ListGroups',
  'ListUsers',
  'ListUsersInGroup',
];

/**
 * What the reconcile job (src/jobs/reconcile.service.ts) calls through CognitoAdminService:
 * listUsers (ListUsers), userExists (AdminGetUser), and, finishing the disable (enable) it carries
 * over from Cognito, adminSetEnabled (AdminDisableUser, AdminEnableUser). Its own task role grants these only;
 * the infra tests read the job's calls and fail when one is added without its permission.
 */
export const RECONCILE_COGNITO_ACTIONS: readonly string[] = ['AdminDisableUser', 'AdminEnableUser', 'AdminGetUser', 'ListUsers'];

const PUBLIC_CLIENT = 'a public app-client call: Cognito authorizes it by ClientId (no IAM, the request is not SigV4-checked)';
const ACCESS_TOKEN = "authorized by the user's access token (no IAM)";

/** Cognito commands that need no IAM permission, and why. */
export const COGNITO_NO_IAM: Readonly<Record<string, string>> = {
  SignUp: PUBLIC_CLIENT,
  ConfirmSignUp: PUBLIC_CLIENT,
  ResendConfirmationCode: PUBLIC_CLIENT,
  InitiateAuth: PUBLIC_CLIENT,
  RespondToAuthChallenge: PUBLIC_CLIENT,
  GetTokensFromRefreshToken: PUBLIC_CLIENT,
  RevokeToken: PUBLIC_CLIENT,
  ForgotPassword: PUBLIC_CLIENT,
  ConfirmForgotPassword: PUBLIC_CLIENT,
  GlobalSignOut: ACCESS_TOKEN,
  ChangePassword: ACCESS_TOKEN,
  GetUser: ACCESS_TOKEN,
  UpdateUserAttributes: ACCESS_TOKEN,
  VerifyUserAttribute: ACCESS_TOKEN,
  SetUserMFAPreference: ACCESS_TOKEN,
  AssociateSoftwareToken: `${ACCESS_TOKEN}, or by the MFA_SETUP challenge session`,
  VerifySoftwareToken: `${ACCESS_TOKEN}, or by the MFA_SETUP challenge session`,
};

/**
 * S3 operations the code performs, as IAM actions on `uploads/*` of the uploads bucket (and on
 * `attachments/*`, where a post's images are copied).
 * Keys are the SDK names: command classes and the presigning helpers.
 */
export const S3_OPERATIONS: Readonly<Record<string, string>> = {
  createPresignedPost: 's3:PutObject',
  PutObjectCommand: 's3:PutObject',
  HeadObjectCommand: 's3:GetObject',
  // Also s3:GetObject on the source (uploads/*): a post attaches a copy under attachments/*.
  CopyObjectCommand: 's3:PutObject',
  GetObjectCommand: 's3:GetObject',
  DeleteObjectCommand: 's3:DeleteObject',
  DeleteObjectsCommand: 's3:DeleteObject',
};

/** The key prefix the API writes uploads under (contract: `uploads/<userId>/<id>`). */
export const UPLOADS_PREFIX = 'uploads/';
/**
 * Where an attached image is served from: a copy of the checked upload, under a prefix no
 * presigned POST targets (`attachments/<userId>/<id>`).
 */
export const ATTACHMENTS_PREFIX = 'attachments/';
