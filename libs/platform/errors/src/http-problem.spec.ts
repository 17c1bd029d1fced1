import { HttpException, NotFoundException } from '@nestjs/common';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { DomainError } from './domain-error';
import { toProblem } from './http-problem.filter';
import { RequestValidationError } from './validation';

class SampleError extends DomainError<'THING_NOT_FOUND'> {
  httpStatus() {
    return 404;
  }
  grpcStatus() {
    return GrpcStatus.NOT_FOUND;
  }
  kafkaDisposition() {
    return 'dead-letter' as const;
  }
}

describe('toProblem (RFC 7807)', () => {
  it('maps a domain error through its own status and keeps its code', () => {
    expect(toProblem(new SampleError('THING_NOT_FOUND', 'Thing 1 was not found'))).toMatchObject({
      status: 404,
      code: 'THING_NOT_FOUND',
      type: 'urn:iip:problem:thing-not-found',
      title: 'Not Found',
      detail: 'Thing 1 was not found',
    });
  });

  it('lists every bad field of a validation error', () => {
    const p = toProblem(
      new RequestValidationError([
        { field: 'name', message: 'required' },
        { field: 'quotas.maxDevices', message: 'must be ≥ 0' },
      ]),
    );
    expect(p.status).toBe(400);
    expect(p.errors).toHaveLength(2);
  });

  it.each([
    [{ type: 'entity.parse.failed', status: 400 }, 400, 'MALFORMED_BODY'],
    [{ type: 'entity.too.large', status: 413, limit: 100 }, 413, 'PAYLOAD_TOO_LARGE'],
    [{ type: 'charset.unsupported', status: 415, message: 'unsupported charset "X"' }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
  ])('maps body-parser failure %o to %i', (err, status, code) => {
    expect(toProblem(err)).toMatchObject({ status, code });
  });

  it('keeps framework HTTP errors and their status', () => {
    expect(toProblem(new NotFoundException('Cannot GET /x'))).toMatchObject({ status: 404, code: 'NOT_FOUND' });
    expect(toProblem(new HttpException('slow down', 429))).toMatchObject({ status: 429, code: 'TOO_MANY_REQUESTS' });
  });

  it('hides the message of anything unexpected', () => {
    const p = toProblem(new Error('connection string postgres://secret@db'));
    expect(p.status).toBe(500);
    expect(JSON.stringify(p)).not.toContain('secret');
  });
});
