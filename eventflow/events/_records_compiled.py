# GENERATED FILE -- DO NOT EDIT BY HAND.
# Written by `python -m eventflow.events.compile` from the wire models (eventflow/events/wire.py,
# invocation.py) through eventflow/events/record_schemas.py. To change a shape, edit the model and run
# that command again: tests/test_records_compiled.py fails while this file differs from what it writes.
"""The record schemas a first invocation validates, compiled ahead of time (see `eventflow.events.compile`).

`eventflow.events.records` validates with these, so a cold start imports neither pydantic nor builds a
model to read its input and the service's answers.
"""

from __future__ import annotations

from typing import Any

from eventflow.events.enums import OperationStatus, OperationType
from eventflow.events.timestamps import parse_timestamp

_ExecutionDetails: dict[str, Any] = {
    'type': 'typed-dict',
    'fields': {
        'input_payload': {
            'type': 'typed-dict-field',
            'schema': {'type': 'nullable', 'schema': {'type': 'str'}},
            'required': False,
            'validation_alias': [['InputPayload'], ['input_payload']],
        },
    },
    'extra_behavior': 'ignore',
}

_ErrorObject: dict[str, Any] = {
    'type': 'typed-dict',
    'fields': {
        'error_message': {
            'type': 'typed-dict-field',
            'schema': {'type': 'nullable', 'schema': {'type': 'str'}},
            'required': False,
            'validation_alias': [['ErrorMessage'], ['error_message']],
        },
        'error_type': {
            'type': 'typed-dict-field',
            'schema': {'type': 'nullable', 'schema': {'type': 'str'}},
            'required': False,
            'validation_alias': [['ErrorType'], ['error_type']],
        },
        'error_data': {
            'type': 'typed-dict-field',
            'schema': {'type': 'nullable', 'schema': {'type': 'str'}},
            'required': False,
            'validation_alias': [['ErrorData'], ['error_data']],
        },
        'stack_trace': {
            'type': 'typed-dict-field',
            'schema': {'type': 'nullable', 'schema': {'type': 'list', 'items_schema': {'type': 'str'}}},
            'required': False,
            'validation_alias': [['StackTrace'], ['stack_trace']],
        },
    },
    'extra_behavior': 'ignore',
}

_ContextDetails: dict[str, Any] = {
    'type': 'typed-dict',
    'fields': {
        'replay_children': {
            'type': 'typed-dict-field',
            'schema': {'type': 'nullable', 'schema': {'type': 'bool'}},
            'required': False,
            'validation_alias': [['ReplayChildren'], ['replay_children']],
        },
        'result': {
            'type': 'typed-dict-field',
            'schema': {'type': 'nullable', 'schema': {'type': 'str'}},
            'required': False,
            'validation_alias': [['Result'], ['result']],
        },
        'error': {
            'type': 'typed-dict-field',
            'schema': {'type': 'nullable', 'schema': _ErrorObject},
            'required': False,
            'validation_alias': [['Error'], ['error']],
        },
    },
    'extra_behavior': 'ignore',
}

_StepDetails: dict[str, Any] = {
    'type': 'typed-dict',
    'fields': {
        'attempt': {
            'type': 'typed-dict-field',
            'schema': {'type': 'nullable', 'schema': {'type': 'int'}},
            'required': False,
            'validation_alias': [['Attempt'], ['attempt']],
        },
        'next_attempt_timestamp': {
            'type': 'typed-dict-field',
            'schema': {
                'type': 'nullable',
                'schema': {
                    'type': 'union',
                    'choices': [
                        (
                            {'type': 'int', 'lt': 4000000000000, 'gt': 100000000000, 'strict': True},
                            'epoch-ms',
                        ),
                        (
                            {
                                'type': 'function-plain',
                                'function': {'type': 'no-info', 'function': parse_timestamp},
                            },
                            'timestamp',
                        ),
                    ],
                },
            },
            'required': False,
            'validation_alias': [['NextAttemptTimestamp'], ['next_attempt_timestamp']],
        },
        'result': {
            'type': 'typed-dict-field',
            'schema': {'type': 'nullable', 'schema': {'type': 'str'}},
            'required': False,
            'validation_alias': [['Result'], ['result']],
        },
        'error': {
            'type': 'typed-dict-field',
            'schema': {'type': 'nullable', 'schema': _ErrorObject},
            'required': False,
            'validation_alias': [['Error'], ['error']],
        },
    },
    'extra_behavior': 'ignore',
}

_WaitDetails: dict[str, Any] = {
    'type': 'typed-dict',
    'fields': {
        'scheduled_end_timestamp': {
            'type': 'typed-dict-field',
            'schema': {
                'type': 'nullable',
                'schema': {
                    'type': 'union',
                    'choices': [
                        (
                            {'type': 'int', 'lt': 4000000000000, 'gt': 100000000000, 'strict': True},
                            'epoch-ms',
                        ),
                        (
                            {
                                'type': 'function-plain',
                                'function': {'type': 'no-info', 'function': parse_timestamp},
                            },
                            'timestamp',
                        ),
                    ],
                },
            },
            'required': False,
            'validation_alias': [['ScheduledEndTimestamp'], ['scheduled_end_timestamp']],
        },
    },
    'extra_behavior': 'ignore',
}

_CallbackDetails: dict[str, Any] = {
    'type': 'typed-dict',
    'fields': {
        'callback_id': {
            'type': 'typed-dict-field',
            'schema': {'type': 'nullable', 'schema': {'type': 'str'}},
            'required': False,
            'validation_alias': [['CallbackId'], ['callback_id']],
        },
        'result': {
            'type': 'typed-dict-field',
            'schema': {'type': 'nullable', 'schema': {'type': 'str'}},
            'required': False,
            'validation_alias': [['Result'], ['result']],
        },
        'error': {
            'type': 'typed-dict-field',
            'schema': {'type': 'nullable', 'schema': _ErrorObject},
            'required': False,
            'validation_alias': [['Error'], ['error']],
        },
    },
    'extra_behavior': 'ignore',
}

_ChainedInvokeDetails: dict[str, Any] = {
    'type': 'typed-dict',
    'fields': {
        'result': {
            'type': 'typed-dict-field',
            'schema': {'type': 'nullable', 'schema': {'type': 'str'}},
            'required': False,
            'validation_alias': [['Result'], ['result']],
        },
        'error': {
            'type': 'typed-dict-field',
            'schema': {'type': 'nullable', 'schema': _ErrorObject},
            'required': False,
            'validation_alias': [['Error'], ['error']],
        },
    },
    'extra_behavior': 'ignore',
}

_Operation: dict[str, Any] = {
    'type': 'typed-dict',
    'fields': {
        'id': {
            'type': 'typed-dict-field',
            'schema': {'type': 'str'},
            'required': True,
            'validation_alias': [['Id'], ['id']],
        },
        'parent_id': {
            'type': 'typed-dict-field',
            'schema': {'type': 'nullable', 'schema': {'type': 'str'}},
            'required': False,
            'validation_alias': [['ParentId'], ['parent_id']],
        },
        'name': {
            'type': 'typed-dict-field',
            'schema': {'type': 'nullable', 'schema': {'type': 'str'}},
            'required': False,
            'validation_alias': [['Name'], ['name']],
        },
        'type': {
            'type': 'typed-dict-field',
            'schema': {
                'type': 'enum',
                'cls': OperationType,
                'members': [
                    OperationType.EXECUTION,
                    OperationType.CONTEXT,
                    OperationType.STEP,
                    OperationType.WAIT,
                    OperationType.CALLBACK,
                    OperationType.CHAINED_INVOKE,
                ],
                'sub_type': 'str',
            },
            'required': True,
            'validation_alias': [['Type'], ['type']],
        },
        'sub_type': {
            'type': 'typed-dict-field',
            'schema': {'type': 'nullable', 'schema': {'type': 'str'}},
            'required': False,
            'validation_alias': [['SubType'], ['sub_type']],
        },
        'start_timestamp': {
            'type': 'typed-dict-field',
            'schema': {
                'type': 'nullable',
                'schema': {
                    'type': 'union',
                    'choices': [
                        (
                            {'type': 'int', 'lt': 4000000000000, 'gt': 100000000000, 'strict': True},
                            'epoch-ms',
                        ),
                        (
                            {
                                'type': 'function-plain',
                                'function': {'type': 'no-info', 'function': parse_timestamp},
                            },
                            'timestamp',
                        ),
                    ],
                },
            },
            'required': False,
            'validation_alias': [['StartTimestamp'], ['start_timestamp']],
        },
        'end_timestamp': {
            'type': 'typed-dict-field',
            'schema': {
                'type': 'nullable',
                'schema': {
                    'type': 'union',
                    'choices': [
                        (
                            {'type': 'int', 'lt': 4000000000000, 'gt': 100000000000, 'strict': True},
                            'epoch-ms',
                        ),
                        (
                            {
                                'type': 'function-plain',
                                'function': {'type': 'no-info', 'function': parse_timestamp},
                            },
                            'timestamp',
                        ),
                    ],
                },
            },
            'required': False,
            'validation_alias': [['EndTimestamp'], ['end_timestamp']],
        },
        'status': {
            'type': 'typed-dict-field',
            'schema': {
                'type': 'enum',
                'cls': OperationStatus,
                'members': [
                    OperationStatus.STARTED,
                    OperationStatus.PENDING,
                    OperationStatus.READY,
                    OperationStatus.SUCCEEDED,
                    OperationStatus.FAILED,
                    OperationStatus.CANCELLED,
                    OperationStatus.TIMED_OUT,
                    OperationStatus.STOPPED,
                ],
                'sub_type': 'str',
            },
            'required': True,
            'validation_alias': [['Status'], ['status']],
        },
        'execution_details': {
            'type': 'typed-dict-field',
            'schema': {'type': 'nullable', 'schema': _ExecutionDetails},
            'required': False,
            'validation_alias': [['ExecutionDetails'], ['execution_details']],
        },
        'context_details': {
            'type': 'typed-dict-field',
            'schema': {'type': 'nullable', 'schema': _ContextDetails},
            'required': False,
            'validation_alias': [['ContextDetails'], ['context_details']],
        },
        'step_details': {
            'type': 'typed-dict-field',
            'schema': {'type': 'nullable', 'schema': _StepDetails},
            'required': False,
            'validation_alias': [['StepDetails'], ['step_details']],
        },
        'wait_details': {
            'type': 'typed-dict-field',
            'schema': {'type': 'nullable', 'schema': _WaitDetails},
            'required': False,
            'validation_alias': [['WaitDetails'], ['wait_details']],
        },
        'callback_details': {
            'type': 'typed-dict-field',
            'schema': {'type': 'nullable', 'schema': _CallbackDetails},
            'required': False,
            'validation_alias': [['CallbackDetails'], ['callback_details']],
        },
        'chained_invoke_details': {
            'type': 'typed-dict-field',
            'schema': {'type': 'nullable', 'schema': _ChainedInvokeDetails},
            'required': False,
            'validation_alias': [['ChainedInvokeDetails'], ['chained_invoke_details']],
        },
    },
    'extra_behavior': 'ignore',
}

_InitialExecutionState: dict[str, Any] = {
    'type': 'typed-dict',
    'fields': {
        'operations': {
            'type': 'typed-dict-field',
            'schema': {'type': 'list', 'items_schema': _Operation},
            'required': False,
            'validation_alias': [['Operations'], ['operations']],
        },
        'next_marker': {
            'type': 'typed-dict-field',
            'schema': {'type': 'nullable', 'schema': {'type': 'str'}},
            'required': False,
            'validation_alias': [['NextMarker'], ['next_marker']],
        },
    },
    'extra_behavior': 'ignore',
}

_DurableExecutionInvocationInput: dict[str, Any] = {
    'type': 'typed-dict',
    'fields': {
        'durable_execution_arn': {
            'type': 'typed-dict-field',
            'schema': {'type': 'str'},
            'required': True,
            'validation_alias': [['DurableExecutionArn'], ['durable_execution_arn']],
        },
        'checkpoint_token': {
            'type': 'typed-dict-field',
            'schema': {'type': 'str'},
            'required': True,
            'validation_alias': [['CheckpointToken'], ['checkpoint_token']],
        },
        'initial_execution_state': {
            'type': 'typed-dict-field',
            'schema': _InitialExecutionState,
            'required': False,
            'validation_alias': [['InitialExecutionState'], ['initial_execution_state']],
        },
        'updated_operation_ids': {
            'type': 'typed-dict-field',
            'schema': {'type': 'list', 'items_schema': {'type': 'str'}},
            'required': False,
            'validation_alias': [['UpdatedOperationIds'], ['updated_operation_ids']],
        },
    },
    'extra_behavior': 'ignore',
}

SCHEMAS: dict[str, dict[str, Any]] = {
    'ExecutionDetails': _ExecutionDetails,
    'ErrorObject': _ErrorObject,
    'ContextDetails': _ContextDetails,
    'StepDetails': _StepDetails,
    'WaitDetails': _WaitDetails,
    'CallbackDetails': _CallbackDetails,
    'ChainedInvokeDetails': _ChainedInvokeDetails,
    'Operation': _Operation,
    'InitialExecutionState': _InitialExecutionState,
    'DurableExecutionInvocationInput': _DurableExecutionInvocationInput,
}
"""The record schema of each model, by model name."""
