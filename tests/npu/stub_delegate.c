/*
 * stub_delegate.c - a tiny TFLite/LiteRT *external delegate plugin* that the
 * tests load in place of Qualcomm's libQnnTFLiteDelegate.so. It exports the
 * two entry points ai_edge_litert's load_delegate() looks up with ctypes:
 *
 *   TfLiteDelegate* tflite_plugin_create_delegate(char** keys, char** values,
 *       size_t num_options, void (*report_error)(const char*));
 *   void tflite_plugin_destroy_delegate(TfLiteDelegate* delegate);
 *
 * It is steered by environment variables read at creation, so a test can
 * control it without changing the options the code under test sends. An
 * option named stub_record / stub_fail / stub_claim overrides its variable.
 *
 *   STUB_DELEGATE_RECORD=/path  append a trace, one item per line:
 *       @create              a delegate is being created, then
 *       key=value            each option received, in order ("\n" escaped)
 *       @fail create         creation failed (on request or bad setting)
 *       @prepare claimed=N   delegate Prepare ran and claimed N nodes
 *       @prepare failed      delegate Prepare failed on request (or
 *                            "@prepare failed abi-mismatch": see below)
 *       @invoke nodes=N      one delegate kernel (partition) ran N nodes
 *   STUB_DELEGATE_FAIL=create   call report_error() and return NULL
 *                     =prepare  Prepare returns kTfLiteError (1)
 *                     =invoke   delegate kernels fail in Invoke
 *   STUB_DELEGATE_CLAIM=none    claim no node (the default)
 *                      =add     claim each float32 ADD whose three tensors
 *                               have the same size; computed exactly, with
 *                               fused NONE/RELU/RELU_N1_TO_1/RELU6
 *                      =<N>     claim each node of builtin op code N
 *                      =all     claim each node not already delegated
 *   Claimed nodes that are not such ADDs get a pass-through kernel (copies
 *   input 0 into output 0, zero-fills the rest): runs, wrong numbers.
 */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Minimal copy of the C ABI of tensorflow/lite/core/c/common.h ---------
 * Field order and types must match exactly; unused pointers are void*. */
typedef int TfLiteStatus;  /* enum: kTfLiteOk = 0, kTfLiteError = 1, ... */
enum { kTfLiteOk = 0, kTfLiteError = 1, kTfLiteFloat32 = 1 /* TfLiteType */ };
enum { kBuiltinAdd = 0, kBuiltinDelegate = 51 };  /* BuiltinOperator */

typedef struct TfLiteIntArray { int size; int data[]; } TfLiteIntArray;

typedef struct TfLiteTensor {  /* full layout: ctx->tensors is an array */
  int type;                                        /* TfLiteType */
  union { void* data; char* raw; } data;           /* TfLitePtrUnion */
  TfLiteIntArray* dims;
  struct { float scale; int32_t zero_point; } params;
  int allocation_type;
  size_t bytes;
  const void* allocation;
  const char* name;
  struct TfLiteDelegate* delegate;
  int buffer_handle;
  bool data_is_stale, is_variable;
  struct { int type; void* params; } quantization;
  void* sparsity;
  const TfLiteIntArray* dims_signature;
} TfLiteTensor;

typedef struct TfLiteNode {
  TfLiteIntArray *inputs, *outputs, *intermediates, *temporaries;
  void* user_data;     /* what our kernel_init returned */
  void* builtin_data;  /* ADD: TfLiteAddParams, first member the activation */
  const void* custom_initial_data;
  int custom_initial_data_size;
  struct TfLiteDelegate* delegate;  /* non-NULL once delegated */
  bool might_have_side_effect;
} TfLiteNode;

struct TfLiteContext;
typedef struct TfLiteRegistration {  /* passed BY VALUE: must be complete */
  void* (*init)(struct TfLiteContext*, const char* buffer, size_t length);
  void (*free)(struct TfLiteContext*, void* buffer);
  TfLiteStatus (*prepare)(struct TfLiteContext*, TfLiteNode*);
  TfLiteStatus (*invoke)(struct TfLiteContext*, TfLiteNode*);
  void* profiling_string;
  int32_t builtin_code;
  const char* custom_name;
  int version;
  void *registration_external, *async_kernel;
  uint64_t inplace_operator;
} TfLiteRegistration;

typedef struct TfLiteContext {  /* a prefix only: used through pointers */
  size_t tensors_size;
  TfLiteStatus (*GetExecutionPlan)(struct TfLiteContext*, TfLiteIntArray**);
  TfLiteTensor* tensors;
  void *impl_, *ResizeTensor;
  void (*ReportError)(struct TfLiteContext*, const char* fmt, ...);
  void* AddTensors;
  TfLiteStatus (*GetNodeAndRegistration)(struct TfLiteContext*, int node,
                                         TfLiteNode**, TfLiteRegistration**);
  TfLiteStatus (*ReplaceNodeSubsetsWithDelegateKernels)(
      struct TfLiteContext*, TfLiteRegistration, const TfLiteIntArray* nodes,
      struct TfLiteDelegate*);
  /* ... more members follow, none of them used here */
} TfLiteContext;

typedef struct TfLiteDelegateParams {  /* handed to a delegate kernel init */
  struct TfLiteDelegate* delegate;
  TfLiteIntArray *nodes_to_replace, *input_tensors, *output_tensors;
} TfLiteDelegateParams;

typedef struct TfLiteDelegate {
  void* data_;
  TfLiteStatus (*Prepare)(TfLiteContext*, struct TfLiteDelegate*);
  void *CopyFromBufferHandle, *CopyToBufferHandle, *FreeBufferHandle;
  int64_t flags;
  void* opaque_delegate_builder;  /* stays NULL so that Prepare is used */
} TfLiteDelegate;

/* ---- Plugin state and trace --------------------------------------------- */
enum { FAIL_NONE, FAIL_CREATE, FAIL_PREPARE, FAIL_INVOKE };
enum { CLAIM_NONE = -1, CLAIM_ALL = -2 };  /* >= 0: a builtin op code */

typedef struct StubState {
  TfLiteDelegate delegate;  /* first member: the state is the delegate */
  char* record;             /* trace file path, or NULL */
  int fail, claim;
} StubState;

/* The file is reopened for every write, so nothing is lost on a crash. */
static FILE* trace_open(const StubState* s) {
  return s->record && *s->record ? fopen(s->record, "a") : NULL;
}

static void trace(const StubState* s, const char* fmt, ...) {
  FILE* f = trace_open(s);
  if (f == NULL) return;
  va_list ap;
  va_start(ap, fmt);
  vfprintf(f, fmt, ap);
  va_end(ap);
  fputc('\n', f);
  fclose(f);
}

static void put_escaped(FILE* f, const char* text) {
  for (; *text; ++text) {
    if (*text == '\n') fputs("\\n", f);
    else if (*text == '\r') fputs("\\r", f);
    else fputc(*text, f);
  }
}

/* ---- Which nodes to claim ----------------------------------------------- */
/* A float32 ADD with equal-sized tensors (so no broadcasting) and a simple
 * fused activation: the only op this stub computes for real. */
static bool is_plain_float_add(TfLiteContext* ctx, const TfLiteNode* node,
                               const TfLiteRegistration* reg) {
  if (reg->builtin_code != kBuiltinAdd || node->inputs->size != 2 ||
      node->outputs->size != 1 || node->builtin_data == NULL ||
      *(const int*)node->builtin_data > 3)  /* NONE,RELU,RELU_N1_TO_1,RELU6 */
    return false;
  int ids[3] = {node->inputs->data[0], node->inputs->data[1],
                node->outputs->data[0]};
  for (int i = 0; i < 3; ++i) {
    if (ids[i] < 0 || (size_t)ids[i] >= ctx->tensors_size) return false;
    const TfLiteTensor* t = &ctx->tensors[ids[i]];
    if (t->type != kTfLiteFloat32 || t->bytes != ctx->tensors[ids[2]].bytes)
      return false;
  }
  return true;
}

static bool wanted(const StubState* s, TfLiteContext* ctx,
                   const TfLiteNode* node, const TfLiteRegistration* reg) {
  if (node->delegate != NULL || reg->builtin_code == kBuiltinDelegate)
    return false;  /* already owned by a delegate */
  if (s->claim == CLAIM_ALL) return true;
  if (s->claim == kBuiltinAdd) return is_plain_float_add(ctx, node, reg);
  return s->claim >= 0 && reg->builtin_code == s->claim;
}

/* ---- The delegate kernel: one instance per claimed partition ------------ */
typedef struct StubOp {
  bool add, internal;  /* internal: output used only inside the partition */
  int act, in0, in1, out;
  char* scratch;       /* our buffer for an internal output: the runtime */
  size_t scratch_bytes;  /* gives no arena memory to such tensors */
} StubOp;

typedef struct StubKernel {
  const StubState* state;
  int n;
  StubOp ops[];  /* claimed nodes, in execution order */
} StubKernel;

static bool contains(const TfLiteIntArray* a, int v) {
  for (int i = 0; i < a->size; ++i)
    if (a->data[i] == v) return true;
  return false;
}

static void* kernel_init(TfLiteContext* ctx, const char* buffer, size_t len) {
  (void)len;
  const TfLiteDelegateParams* p = (const TfLiteDelegateParams*)buffer;
  int n = p->nodes_to_replace->size;
  StubKernel* k = calloc(1, sizeof(StubKernel) + (size_t)n * sizeof(StubOp));
  if (k == NULL) return NULL;
  k->state = p->delegate->data_;
  k->n = n;
  for (int i = 0; i < n; ++i) {
    TfLiteNode* node;
    TfLiteRegistration* reg;
    StubOp* op = &k->ops[i];
    if (ctx->GetNodeAndRegistration(ctx, p->nodes_to_replace->data[i], &node,
                                    &reg) != kTfLiteOk) {
      free(k);
      return NULL;
    }
    op->add = is_plain_float_add(ctx, node, reg);
    op->act = op->add ? *(const int*)node->builtin_data : 0;
    op->in0 = node->inputs->size > 0 ? node->inputs->data[0] : -1;
    op->in1 = node->inputs->size > 1 ? node->inputs->data[1] : -1;
    op->out = node->outputs->size > 0 ? node->outputs->data[0] : -1;
    op->internal = op->out >= 0 && !contains(p->output_tensors, op->out);
  }
  return k;
}

static void kernel_free(TfLiteContext* ctx, void* buffer) {
  (void)ctx;
  StubKernel* k = buffer;
  for (int i = 0; k != NULL && i < k->n; ++i) free(k->ops[i].scratch);
  free(k);
}

static TfLiteStatus kernel_prepare(TfLiteContext* ctx, TfLiteNode* node) {
  StubKernel* k = node->user_data;
  for (int i = 0; k != NULL && i < k->n; ++i) {
    StubOp* op = &k->ops[i];
    if (!op->internal) continue;
    size_t bytes = ctx->tensors[op->out].bytes;
    char* grown = realloc(op->scratch, bytes ? bytes : 1);
    if (grown == NULL) return kTfLiteError;
    op->scratch = grown;
    op->scratch_bytes = bytes;
  }
  return k != NULL ? kTfLiteOk : kTfLiteError;
}

/* Memory of tensor t as seen by op number `upto`; NULL if it has none. */
static char* locate(const StubKernel* k, TfLiteContext* ctx, int upto, int t,
                    size_t* bytes) {
  for (int j = upto - 1; j >= 0; --j)
    if (k->ops[j].internal && k->ops[j].out == t) {
      *bytes = k->ops[j].scratch_bytes;
      return k->ops[j].scratch;
    }
  bool ok = t >= 0 && (size_t)t < ctx->tensors_size;
  *bytes = ok ? ctx->tensors[t].bytes : 0;
  return ok ? ctx->tensors[t].data.raw : NULL;
}

static float activate(float v, int act) {  /* TfLiteFusedActivation 0..3 */
  if (act == 1 || act == 3) v = v < 0.0f ? 0.0f : v;
  if (act == 3) v = v > 6.0f ? 6.0f : v;
  if (act == 2) v = v < -1.0f ? -1.0f : (v > 1.0f ? 1.0f : v);
  return v;
}

static TfLiteStatus kernel_invoke(TfLiteContext* ctx, TfLiteNode* node) {
  StubKernel* k = node->user_data;
  if (k == NULL) return kTfLiteError;
  trace(k->state, "@invoke nodes=%d", k->n);
  if (k->state->fail == FAIL_INVOKE) {
    ctx->ReportError(ctx, "stub delegate: invoke failure requested");
    return kTfLiteError;
  }
  for (int i = 0; i < k->n; ++i) {
    const StubOp* op = &k->ops[i];
    size_t na, nb, nz = op->scratch_bytes;
    const char* a = locate(k, ctx, i, op->in0, &na);
    const char* b = locate(k, ctx, i, op->in1, &nb);
    char* z = op->internal ? op->scratch : locate(k, ctx, i, op->out, &nz);
    if (z == NULL) continue;
    if (op->add && a && b && na == nz && nb == nz) {
      const float *x = (const float*)a, *y = (const float*)b;
      for (size_t e = 0; e < nz / sizeof(float); ++e)
        ((float*)z)[e] = activate(x[e] + y[e], op->act);
    } else {  /* pass-through: defined memory, meaningless numbers */
      size_t copied = a == NULL ? 0 : (na < nz ? na : nz);
      if (copied) memmove(z, a, copied);
      memset(z + copied, 0, nz - copied);
    }
  }
  return kTfLiteOk;
}

/* ---- The delegate ------------------------------------------------------- */
static TfLiteStatus stub_prepare(TfLiteContext* ctx, TfLiteDelegate* d) {
  const StubState* s = d->data_;
  if (s->fail == FAIL_PREPARE) {
    trace(s, "@prepare failed");
    ctx->ReportError(ctx, "stub delegate: prepare failure requested");
    return kTfLiteError;
  }
  /* ABI sanity check: were our sizeof(TfLiteTensor) wrong, the enums of
   * tensors[i > 0] would be read from other fields and be out of range. */
  for (size_t i = 0; i < ctx->tensors_size; ++i) {
    const TfLiteTensor* t = &ctx->tensors[i];
    if ((unsigned)t->type > 64 || (unsigned)t->allocation_type > 16) {
      trace(s, "@prepare failed abi-mismatch");
      ctx->ReportError(ctx, "stub delegate: TfLiteTensor ABI mismatch");
      return kTfLiteError;
    }
  }
  TfLiteIntArray* plan;
  if (ctx->GetExecutionPlan(ctx, &plan) != kTfLiteOk) return kTfLiteError;
  TfLiteIntArray* claimed = malloc(sizeof(int) * (size_t)(plan->size + 1));
  if (claimed == NULL) return kTfLiteError;
  claimed->size = 0;
  for (int i = 0; i < plan->size; ++i) {
    TfLiteNode* node;
    TfLiteRegistration* reg;
    if (ctx->GetNodeAndRegistration(ctx, plan->data[i], &node, &reg) ==
            kTfLiteOk && wanted(s, ctx, node, reg))
      claimed->data[claimed->size++] = plan->data[i];
  }
  trace(s, "@prepare claimed=%d", claimed->size);
  TfLiteStatus status = kTfLiteOk;
  if (claimed->size > 0) {  /* the runtime groups them into partitions */
    TfLiteRegistration reg;
    memset(&reg, 0, sizeof reg);
    reg.init = kernel_init;
    reg.free = kernel_free;
    reg.prepare = kernel_prepare;
    reg.invoke = kernel_invoke;
    reg.builtin_code = kBuiltinDelegate;
    reg.custom_name = "StubQnnDelegate";
    reg.version = 1;
    status = ctx->ReplaceNodeSubsetsWithDelegateKernels(ctx, reg, claimed, d);
  }
  free(claimed);
  return status;
}

static int parse_fail(const char* v) {
  if (v == NULL || !*v || !strcmp(v, "none")) return FAIL_NONE;
  if (!strcmp(v, "create")) return FAIL_CREATE;
  if (!strcmp(v, "prepare")) return FAIL_PREPARE;
  return !strcmp(v, "invoke") ? FAIL_INVOKE : -1;
}

static int parse_claim(const char* v, bool* ok) {
  char* end;
  *ok = true;
  if (v == NULL || !*v || !strcmp(v, "none")) return CLAIM_NONE;
  if (!strcmp(v, "all")) return CLAIM_ALL;
  if (!strcmp(v, "add")) return kBuiltinAdd;
  long code = strtol(v, &end, 10);
  *ok = *end == '\0' && code >= 0 && code < 100000;
  return (int)code;
}

TfLiteDelegate* tflite_plugin_create_delegate(char** keys, char** values,
                                              size_t num_options,
                                              void (*report_error)(const char*)) {
  /* ai_edge_litert passes num_options as a ctypes c_int: keep the low bits. */
  size_t n = (size_t)(unsigned int)num_options;
  const char* record = getenv("STUB_DELEGATE_RECORD");
  const char* fail = getenv("STUB_DELEGATE_FAIL");
  const char* claim = getenv("STUB_DELEGATE_CLAIM");
  for (size_t i = 0; i < n; ++i) {
    if (keys[i] == NULL || values[i] == NULL) continue;
    if (!strcmp(keys[i], "stub_record")) record = values[i];
    if (!strcmp(keys[i], "stub_fail")) fail = values[i];
    if (!strcmp(keys[i], "stub_claim")) claim = values[i];
  }
  StubState* s = calloc(1, sizeof *s);
  if (s == NULL || (record != NULL && (s->record = strdup(record)) == NULL)) {
    free(s);
    if (report_error) report_error("stub delegate: out of memory");
    return NULL;
  }
  trace(s, "@create");
  FILE* f = trace_open(s);
  for (size_t i = 0; f != NULL && i < n; ++i) {
    put_escaped(f, keys[i] ? keys[i] : "");
    fputc('=', f);
    put_escaped(f, values[i] ? values[i] : "");
    fputc('\n', f);
  }
  if (f != NULL) fclose(f);

  bool claim_ok;
  s->fail = parse_fail(fail);
  s->claim = parse_claim(claim, &claim_ok);
  const char* why = s->fail < 0 ? "stub delegate: bad STUB_DELEGATE_FAIL value"
                    : !claim_ok ? "stub delegate: bad STUB_DELEGATE_CLAIM value"
                    : s->fail == FAIL_CREATE
                        ? "stub delegate: creation failure requested"
                        : NULL;
  if (why != NULL) {
    trace(s, "@fail create");
    if (report_error) report_error(why);
    free(s->record);
    free(s);
    return NULL;
  }
  s->delegate.data_ = s;
  s->delegate.Prepare = stub_prepare;  /* flags 0: no dynamic tensors */
  return &s->delegate;
}

void tflite_plugin_destroy_delegate(TfLiteDelegate* delegate) {
  StubState* s = delegate ? delegate->data_ : NULL;
  if (s != NULL) free(s->record);
  free(s);
}
