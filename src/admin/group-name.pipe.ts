import { Injectable, PipeTransform } from '@nestjs/common';
import { ApiError } from '../common/api-error';
import { GROUP_NAME } from './dto/admin.dto';

/** A group name in the path: validated before it reaches Cognito. */
@Injectable()
export class GroupNamePipe implements PipeTransform<unknown, string> {
  transform(value: unknown): string {
    if (typeof value !== 'string' || !GROUP_NAME.test(value)) {
      throw ApiError.validation('The group name in the path is not valid', [
        { field: 'name', message: 'must be 1-128 letters, digits or _.+=@-' },
      ]);
    }
    return value;
  }
}
