import { Inject, Injectable } from '@nestjs/common';
import { Principal } from '@iip/platform-auth';
import { isHandleSyntaxError, isUnderPrefix, parsePrefix } from '../handles/handle-syntax';
import { IdentifierError, IdentifierErrorCode } from '../identifier.errors';
import { DelegationEntity } from './prefix.entity';
import { DelegationsRepository } from './delegations.repository';
import { NODE_SETTINGS, NodeSettings } from './prefixes.service';

@Injectable()
export class DelegationsService {
  constructor(
    private readonly delegations: DelegationsRepository,
    @Inject(NODE_SETTINGS) private readonly node: NodeSettings,
  ) {}

  list(): Promise<DelegationEntity[]> {
    return this.delegations.list();
  }

  async delegate(actor: Principal, requested: string, baseUrl: string): Promise<DelegationEntity> {
    const prefix = this.checked(actor, requested);
    return this.delegations.upsert(prefix, baseUrl);
  }

  async undelegate(actor: Principal, requested: string): Promise<void> {
    const prefix = this.checked(actor, requested);
    if (!(await this.delegations.remove(prefix)))
      throw new IdentifierError(IdentifierErrorCode.PREFIX_NOT_FOUND, `Prefix ${prefix} is not delegated`);
  }

  private checked(actor: Principal, requested: string): string {
    if (actor.tenant.kind !== 'platform')
      throw new IdentifierError(IdentifierErrorCode.PREFIX_NOT_OWNED, 'Only the platform operator manages delegations');
    const prefix = parsePrefix(requested);
    if (isHandleSyntaxError(prefix)) throw new IdentifierError(IdentifierErrorCode.INVALID_HANDLE, prefix.message);
    if (isUnderPrefix(prefix, this.node.nodePrefix)) {
      throw new IdentifierError(
        IdentifierErrorCode.INVALID_VALUE,
        `${prefix} is hosted by this node (${this.node.nodePrefix}) and cannot be delegated away`,
      );
    }
    return prefix;
  }
}
