/** webhook_requests and processing_stages rows as the API shows them (the seed's field names, camelCase; durations name their unit). */
const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function webhookJson(r: any) {
  return {
    id: r.id,
    createdAt: iso(r.created_at),
    sourceIp: r.source_ip,
    userAgent: r.user_agent,
    headers: r.headers,
    payload: r.payload,
    payloadSize: r.payload_size,
    payloadSha256: r.payload_sha256,
    truncation: r.truncation,
    signature: r.signature,
    signatureValid: r.signature_valid,
    processingTimeMs: r.processing_time_ms,
    status: r.status,
    httpStatus: r.http_status,
    errorCode: r.error_code,
    errorMessage: r.error_message,
    errorStack: r.error_stack,
    signalId: r.signal_id,
    outcome: r.outcome,
    declineReason: r.decline_reason,
    ticker: r.ticker,
    action: r.action,
    strategy: r.strategy,
    traceId: r.trace_id,
    replayOf: r.replay_of,
    // What happened after the answer: the signal's status (queued, executing, executed, failed, declined) and why it failed.
    execution: r.signal_id && r.execution_status ? { status: r.execution_status, error: r.execution_error } : null,
  };
}

export function stageJson(r: any) {
  return {
    id: r.id,
    createdAt: iso(r.created_at),
    webhookId: r.webhook_id,
    stage: r.stage,
    startedAt: iso(r.started_at),
    completedAt: iso(r.completed_at),
    durationMs: r.duration_ms,
    status: r.status,
    errorMessage: r.error_message,
    metadata: r.metadata,
    traceId: r.trace_id,
    spanId: r.span_id,
  };
}
