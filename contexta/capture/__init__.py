"""Runtime capture: ``with ctx.run("train") as run: run.stage("fit").metric("loss", 0.3)``.

Unlike Contexta 1.0 (whose scopes raised ``TypeError`` on every emission and wrote only to
sink files), every scope transition and emission here is a real ledger event: runs, stages,
batches and samples are put as entities, metrics/events/spans are appended as records through
``ctx.record_store``, and artifact registrations are ``artifact.put`` events. What a training
loop records is listed, compared, snapshotted and reported like anything else.
"""

from .builtin_sinks import (
    BaseSink,
    CompositeSink,
    InMemorySink,
    InMemorySinkEntry,
    LocalJsonlSink,
    Sink,
    SinkCaptureReceipt,
    SinkCaptureRequest,
    StdoutSink,
)
from .dispatch import CaptureDispatcher, dispatch_batch_capture_result, dispatch_capture_result
from .errors import CaptureError, ClosedScopeError, DispatchError, LifecycleError
from .models import ArtifactRegistrationEmission, EventEmission, MetricEmission, SpanEmission
from .results import (
    BatchCaptureResult,
    CaptureResult,
    DegradationNote,
    Delivery,
    DeliveryStatus,
    FailureInfo,
    MessageLevel,
    PayloadFamily,
    ResultMessage,
    ResultStatus,
)
from .scopes import (
    BaseScope,
    BatchScope,
    DeploymentScope,
    OperationScope,
    RunScope,
    SampleScope,
    SpanScope,
    StageScope,
)
from .session import ActiveContext, ContextState, RuntimeSession

__all__ = [
    "ActiveContext",
    "ArtifactRegistrationEmission",
    "BaseScope",
    "BaseSink",
    "BatchCaptureResult",
    "BatchScope",
    "CaptureDispatcher",
    "CaptureError",
    "CaptureResult",
    "ClosedScopeError",
    "CompositeSink",
    "ContextState",
    "DegradationNote",
    "Delivery",
    "DeliveryStatus",
    "DeploymentScope",
    "DispatchError",
    "EventEmission",
    "FailureInfo",
    "InMemorySink",
    "InMemorySinkEntry",
    "LifecycleError",
    "LocalJsonlSink",
    "MessageLevel",
    "MetricEmission",
    "OperationScope",
    "PayloadFamily",
    "ResultMessage",
    "ResultStatus",
    "RunScope",
    "RuntimeSession",
    "SampleScope",
    "Sink",
    "SinkCaptureReceipt",
    "SinkCaptureRequest",
    "SpanEmission",
    "SpanScope",
    "StageScope",
    "StdoutSink",
    "dispatch_batch_capture_result",
    "dispatch_capture_result",
]
