import { applyDecorators } from '@nestjs/common';
import { Public } from '../identity/public.decorator';
import { RateLimited } from './rate-limit.guard';

/** A sign-in route (signup, login, reset...): open to anyone, rate limited per client address. */
export const PublicAuthRoute = (): MethodDecorator => applyDecorators(Public(), RateLimited());
