import { Authenticated } from '../identity/authenticated.decorator';
import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiTags } from '@nestjs/swagger';
import { AuthUser } from '../identity/auth-user';
import { CurrentUser } from '../identity/current-user.decorator';
import { IdempotencyKey, Idempotent } from '../idempotency/idempotent.decorator';
import { Idempotency, KeyedRequest } from '../idempotency/idempotency.service';
import { UploadResponse } from './dto/upload.response';
import { CreateUploadDto } from './dto/uploads.dto';
import { UploadsService } from './uploads.service';

@ApiTags('uploads')
@Authenticated()
@Controller('v1/uploads')
export class UploadsController {
  constructor(
    private readonly uploads: UploadsService,
    private readonly idempotency: Idempotency,
  ) {}

  @Post()
  @HttpCode(201)
  @Idempotent()
  @ApiCreatedResponse({ type: UploadResponse, description: 'A presigned S3 POST for one image, valid 5 minutes' })
  create(
    @CurrentUser() caller: AuthUser,
    @Body() dto: CreateUploadDto,
    @IdempotencyKey() key: KeyedRequest | undefined,
  ): Promise<UploadResponse> {
    return this.idempotency.once(key, () => this.uploads.create(caller, dto));
  }
}
