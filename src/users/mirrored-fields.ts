import type { CognitoProfile } from '../cognito/cognito.types';
import type { ProfileFields } from './user-mapping.repository';

/**
 * The attributes of a Cognito profile a row mirrors. The email only once Cognito reports it
 * verified (`email_verified`): an address a user asked for and never proved is not theirs, so it
 * leaves the row's email as it was (undefined here; null for a new row).
 */
export function mirroredFields(profile: Pick<CognitoProfile, 'email' | 'emailVerified' | 'phoneNumber' | 'nickname'>): ProfileFields {
  return {
    ...(profile.emailVerified ? { email: profile.email } : {}),
    phoneNumber: profile.phoneNumber,
    nickname: profile.nickname,
  };
}
