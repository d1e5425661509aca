/** A DIS service error body: `{"errorCode":"DIS.xxxx","message":"..."}` (docs/dis-api.md ("Error bodies")). */
export type DisErrorBody = { errorCode: string; message: string };

/**
 * An API Gateway error body: `{"error_code":"APIGW.xxxx","error_msg":"...","request_id":"..."}` (docs/dis-api.md
 * ("Error bodies")).
 */
export type GatewayErrorBody = { error_code: string; error_msg: string; request_id: string };

/** A DIS error whose message ends like the real ones: `Stream does not exist. [subject][request id]`. */
export function disError(code: string, text: string, subject: string, requestId: string): DisErrorBody {
  return { errorCode: code, message: `${text} [${subject}][${requestId}]` };
}

/** An API Gateway error body. */
export function gatewayError(code: string, message: string, requestId: string): GatewayErrorBody {
  return { error_code: code, error_msg: message, request_id: requestId };
}

/** The body the gateway sends for a path it has no API for (404). */
export function unknownApiError(requestId: string): GatewayErrorBody {
  return gatewayError('APIGW.0101', 'The API does not exist or has not been published in the environment', requestId);
}

/** A plausible body for a `status` fault that gives none, chosen by status. */
export function defaultFaultBody(status: number, requestId: string): DisErrorBody | GatewayErrorBody {
  if (status === 429) {
    return gatewayError(
      'APIGW.0308',
      'The throttling threshold has been reached: policy user over ratelimit,limit:100,time:1 minute',
      requestId,
    );
  }
  if (status === 401)
    return gatewayError('APIGW.0301', 'Incorrect IAM authentication information: injected fault', requestId);
  if (status === 403) return disError('DIS.4116', 'Invalid RBAC.', 'fault', requestId);
  if (status >= 500) return disError('DIS.5000', 'System error.', 'fault', requestId);
  return disError('DIS.4300', 'Request error.', 'fault', requestId);
}

/** The `errorCode` (DIS) or `error_code` (API gateway) of a body about to be sent, object or JSON text. */
export function errorCodeOf(body: unknown): string | undefined {
  let value = body;
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body);
    } catch {
      return undefined;
    }
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { errorCode, error_code: gatewayCode } = value as Record<string, unknown>;
  if (typeof errorCode === 'string') return errorCode;
  return typeof gatewayCode === 'string' ? gatewayCode : undefined;
}
