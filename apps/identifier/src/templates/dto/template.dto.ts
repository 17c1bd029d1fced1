import { ApiProperty } from '@nestjs/swagger';
import { IsObject, Matches } from 'class-validator';
import { TEMPLATE_KIND_PATTERN } from '../template.entity';

export class CreateTemplateDto {
  @ApiProperty({ example: 'device', pattern: TEMPLATE_KIND_PATTERN.source, description: 'The identifier kind the template is for' })
  @Matches(TEMPLATE_KIND_PATTERN, {
    message: 'kind must be a lower-case letter followed by up to 39 lower-case letters, digits or hyphens',
  })
  kind!: string;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description:
      "JSON Schema (draft 2020-12) over the values keyed by value type, each property being that value's data.value " +
      '(an array of them when several values share a type)',
    example: {
      type: 'object',
      required: ['SERIAL', 'MODEL'],
      properties: {
        SERIAL: { type: 'string', pattern: '^SN-' },
        MODEL: { type: 'string' },
        URL: { type: 'string', format: 'uri' },
      },
    },
  })
  @IsObject()
  schema!: Record<string, unknown>;
}

/** A template as the API returns it. */
export interface TemplateView {
  kind: string;
  version: number;
  schema: Record<string, unknown>;
  createdAt: string;
}
