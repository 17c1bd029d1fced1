import { All, Controller, NotFoundException, Req, UseFilters } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request } from 'express';
import { Public } from '@iip/platform-auth';
import { HandleApiErrorFilter } from './handle-api.filter';

/**
 * Whatever under /api/ no Handle API route serves (`/api/nothing`, `/api/handles` without a
 * handle, a method the API lacks): 404 in the Handle API's shape, `responseCode` 100, as Handle
 * clients read it on every answer. Registered after HandlesController, so it only gets what that
 * one does not match; public, since "no such route" is the same answer for everyone.
 */
@ApiExcludeController()
@Controller('api')
export class HandleApiFallbackController {
  @All(['', '*path'])
  @Public()
  @UseFilters(HandleApiErrorFilter)
  notFound(@Req() req: Request): never {
    throw new NotFoundException(`The Handle API has no ${req.method} ${req.path}; a handle resolves at GET /api/handles/{handle}`);
  }
}
