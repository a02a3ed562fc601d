/*
 * ort_api_slots.c - prints the index of every OrtApi function-pointer slot that the hand-written
 * C# binding (src/StyleFilter.Managed/Ort/OrtApi.cs, enum Slot) uses, computed from ONNX Runtime's
 * own header. tests/abi/run.sh compares this output with the numbers in OrtApi.cs, so a wrong slot
 * number in the binding fails the build instead of calling the wrong function at run time.
 *
 * Output: one "Name=index" line per slot. run.sh generates the slot list from enum Slot and passes it as
 * -DORT_SLOT_LIST_FILE="..." (so a slot added to the binding is checked without editing this file); without
 * it the built-in list below is used. Either way run.sh fails when a name is on one side only.
 */
#include <stddef.h>
#include <stdio.h>
#include <onnxruntime_c_api.h>

#ifdef ORT_SLOT_LIST_FILE
#include ORT_SLOT_LIST_FILE /* defines SLOTS(X) */
#else
#define SLOTS(X) \
    X(GetErrorCode) X(GetErrorMessage) X(CreateEnvWithCustomLogger) X(CreateSession) X(CreateSessionFromArray) X(Run) \
    X(CreateSessionOptions) X(CreateRunOptions) X(RunOptionsSetTerminate) X(RunOptionsUnsetTerminate) X(DisableMemPattern) X(SetSessionGraphOptimizationLevel) X(SetIntraOpNumThreads) \
    X(SetInterOpNumThreads) X(SessionGetInputCount) X(SessionGetOutputCount) X(SessionGetInputTypeInfo) \
    X(SessionGetOutputTypeInfo) X(SessionGetInputName) X(SessionGetOutputName) \
    X(CreateTensorWithDataAsOrtValue) X(GetTensorMutableData) X(CastTypeInfoToTensorInfo) \
    X(GetOnnxTypeFromTypeInfo) X(GetTensorElementType) X(GetDimensionsCount) X(GetDimensions) \
    X(GetTensorTypeAndShape) X(CreateCpuMemoryInfo) X(AllocatorFree) X(GetAllocatorWithDefaultOptions) \
    X(ReleaseEnv) X(ReleaseStatus) X(ReleaseMemoryInfo) X(ReleaseSession) X(ReleaseValue) X(ReleaseRunOptions) \
    X(ReleaseTypeInfo) X(ReleaseTensorTypeAndShapeInfo) X(ReleaseSessionOptions) \
    X(GetAvailableProviders) X(ReleaseAvailableProviders) X(AddSessionConfigEntry) X(CreateAndRegisterAllocator) \
    X(ReleaseArenaCfg) X(CreateArenaCfgV2) \
    X(RegisterExecutionProviderLibrary) X(GetEpDevices) X(SessionOptionsAppendExecutionProvider_V2) \
    X(EpDevice_EpName)
#endif

#define PRINT_SLOT(name) printf("%s=%zu\n", #name, offsetof(OrtApi, name) / sizeof(void*));

int main(void)
{
    SLOTS(PRINT_SLOT)
    printf("# ORT_API_VERSION=%d\n", ORT_API_VERSION);
    return 0;
}
