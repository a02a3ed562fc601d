// host.cpp - see host.h.
#include "host.h"

#include <dlfcn.h>

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace ofxhost {

namespace {

Host* g_host = nullptr;
thread_local double t_currentTime = 0;
thread_local unsigned t_threadIndex = 0;
thread_local bool t_spawned = false;

const char* TypeName(PropType t)
{
    switch (t) {
    case PropType::Int: return "int";
    case PropType::Double: return "double";
    case PropType::String: return "string";
    case PropType::Pointer: return "pointer";
    }
    return "?";
}

bool StartsWith(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

/// The type the specification gives a property, for the ones this plugin family uses (so that a plugin setting
/// one with the wrong type is caught even when the host had not created it yet).
bool SchemaType(const std::string& n, PropType* t)
{
    static const std::map<std::string, PropType> schema = {
        {kOfxPropType, PropType::String},
        {kOfxPropName, PropType::String},
        {kOfxPropLabel, PropType::String},
        {kOfxPropShortLabel, PropType::String},
        {kOfxPropLongLabel, PropType::String},
        {kOfxPropVersion, PropType::Int},
        {kOfxPropVersionLabel, PropType::String},
        {kOfxPropPluginDescription, PropType::String},
        {kOfxPropTime, PropType::Double},
        {kOfxPropInstanceData, PropType::Pointer},
        {kOfxPropIsInteractive, PropType::Int},
        {kOfxPropChangeReason, PropType::String},
        {kOfxPluginPropFilePath, PropType::String},
        {kOfxImageEffectPluginPropGrouping, PropType::String},
        {kOfxImageEffectPropSupportedContexts, PropType::String},
        {kOfxImageEffectPropSupportedPixelDepths, PropType::String},
        {kOfxImageEffectPropSupportedComponents, PropType::String},
        {kOfxImageEffectPluginRenderThreadSafety, PropType::String},
        {kOfxImageEffectPluginPropSingleInstance, PropType::Int},
        {kOfxImageEffectPluginPropHostFrameThreading, PropType::Int},
        {kOfxImageEffectPropSupportsTiles, PropType::Int},
        {kOfxImageEffectPropSupportsMultiResolution, PropType::Int},
        {kOfxImageEffectPropTemporalClipAccess, PropType::Int},
        {kOfxImageEffectPropSupportsMultipleClipDepths, PropType::Int},
        {kOfxImageEffectPropSupportsMultipleClipPARs, PropType::Int},
        {kOfxImageEffectFrameVarying, PropType::Int},
        {kOfxImageClipPropOptional, PropType::Int},
        {kOfxImageClipPropIsMask, PropType::Int},
        {kOfxImageClipPropContinuousSamples, PropType::Int},
        {kOfxImageEffectPropRegionOfDefinition, PropType::Double},
        {kOfxImageEffectPropRegionOfInterest, PropType::Double},
        {kOfxImageEffectPropRenderWindow, PropType::Int},
        {kOfxImageEffectPropRenderScale, PropType::Double},
        {kOfxImageEffectPropFrameRange, PropType::Double},
        {kOfxImagePropBounds, PropType::Int},
        {kOfxImagePropRowBytes, PropType::Int},
        {kOfxImagePropData, PropType::Pointer},
        {kOfxImageEffectPropPixelDepth, PropType::String},
        {kOfxImageEffectPropComponents, PropType::String},
        {kOfxImageEffectPropPreMultiplication, PropType::String},
        {kOfxParamPropScriptName, PropType::String},
        {kOfxParamPropHint, PropType::String},
        {kOfxParamPropChoiceOption, PropType::String},
        {kOfxParamPropStringMode, PropType::String},
        {kOfxParamPropDoubleType, PropType::String},
        {kOfxParamPropAnimates, PropType::Int},
        {kOfxParamPropDigits, PropType::Int},
        {kOfxParamPropIncrement, PropType::Double},
        {kOfxParamPropStringFilePathExists, PropType::Int},
        {kOfxParamPropEvaluateOnChange, PropType::Int},
        {kOfxParamPropSecret, PropType::Int},
        {kOfxParamPropEnabled, PropType::Int},
        {kOfxParamPropCanUndo, PropType::Int},
        {kOfxParamPropParent, PropType::String},
    };
    auto it = schema.find(n);
    if (it != schema.end()) {
        *t = it->second;
        return true;
    }
    if (StartsWith(n, kOfxImageClipPropFrameRangePrefix) || StartsWith(n, kOfxImageClipPropRoIPrefix) ||
        StartsWith(n, kOfxImageClipPropPARPrefix)) {
        *t = PropType::Double;
        return true;
    }
    if (StartsWith(n, kOfxImageClipPropComponentsPrefix) || StartsWith(n, kOfxImageClipPropDepthPrefix)) {
        *t = PropType::String;
        return true;
    }
    return false;
}

PropertySet* AsProps(OfxPropertySetHandle h)
{
    auto* p = reinterpret_cast<PropertySet*>(h);
    return (p && p->magic == 0x50524f50) ? p : nullptr;
}

template <PropType T>
std::vector<typename std::conditional<
    T == PropType::Int, int,
    typename std::conditional<T == PropType::Double, double,
                              typename std::conditional<T == PropType::String, std::string, void*>::type>::type>::type>&
Values(Prop& p);

template <>
std::vector<int>& Values<PropType::Int>(Prop& p)
{
    return p.i;
}
template <>
std::vector<double>& Values<PropType::Double>(Prop& p)
{
    return p.d;
}
template <>
std::vector<std::string>& Values<PropType::String>(Prop& p)
{
    return p.s;
}
template <>
std::vector<void*>& Values<PropType::Pointer>(Prop& p)
{
    return p.p;
}

/// Finds (or, for a set, creates) a property of type T, checking the type.
template <PropType T>
OfxStatus Lookup(OfxPropertySetHandle h, const char* name, bool create, Prop** out)
{
    PropertySet* ps = AsProps(h);
    if (!ps) {
        g_host->Violation(std::string("property call on a bad handle for '") + (name ? name : "(null)") + "'");
        return kOfxStatErrBadHandle;
    }
    if (!name) return kOfxStatErrUnknown;
    auto it = ps->props.find(name);
    if (it == ps->props.end()) {
        if (!create) return kOfxStatErrUnknown;
        PropType st;
        if (SchemaType(name, &st) && st != T) {
            g_host->Violation(std::string("set ") + name + " as " + TypeName(T) + ", the specification says " +
                              TypeName(st));
            return kOfxStatErrValue;
        }
        Prop p;
        p.type = T;
        it = ps->props.emplace(name, p).first;
    } else if (it->second.type != T) {
        g_host->Violation(std::string(create ? "set " : "got ") + name + " as " + TypeName(T) + " but it is " +
                          TypeName(it->second.type) + " (on " + ps->what + ")");
        return kOfxStatErrValue;
    }
    *out = &it->second;
    return kOfxStatOK;
}

template <PropType T, typename V>
OfxStatus SetOne(OfxPropertySetHandle h, const char* name, int index, V value)
{
    Prop* p = nullptr;
    OfxStatus st = Lookup<T>(h, name, true, &p);
    if (st != kOfxStatOK) return st;
    if (index < 0) return kOfxStatErrBadIndex;
    auto& v = Values<T>(*p);
    if ((size_t)index >= v.size()) v.resize((size_t)index + 1);
    v[(size_t)index] = value;
    return kOfxStatOK;
}

template <PropType T, typename V>
OfxStatus SetMany(OfxPropertySetHandle h, const char* name, int count, const V* values)
{
    Prop* p = nullptr;
    OfxStatus st = Lookup<T>(h, name, true, &p);
    if (st != kOfxStatOK) return st;
    if (count < 0 || (count > 0 && !values)) return kOfxStatErrValue;
    auto& v = Values<T>(*p);
    v.assign(values, values + count);
    return kOfxStatOK;
}

template <PropType T, typename V>
OfxStatus GetOne(OfxPropertySetHandle h, const char* name, int index, V* out)
{
    Prop* p = nullptr;
    OfxStatus st = Lookup<T>(h, name, false, &p);
    if (st != kOfxStatOK) return st;
    auto& v = Values<T>(*p);
    if (index < 0 || (size_t)index >= v.size()) return kOfxStatErrBadIndex;
    if (!out) return kOfxStatErrValue;
    *out = v[(size_t)index];
    return kOfxStatOK;
}

template <PropType T, typename V>
OfxStatus GetMany(OfxPropertySetHandle h, const char* name, int count, V* out)
{
    Prop* p = nullptr;
    OfxStatus st = Lookup<T>(h, name, false, &p);
    if (st != kOfxStatOK) return st;
    auto& v = Values<T>(*p);
    if (count < 0 || (size_t)count > v.size()) return kOfxStatErrBadIndex;
    for (int k = 0; k < count; ++k) out[k] = v[(size_t)k];
    return kOfxStatOK;
}

// ---- property suite ----

OfxStatus propSetPointer(OfxPropertySetHandle h, const char* n, int i, void* v)
{
    return SetOne<PropType::Pointer>(h, n, i, v);
}
OfxStatus propSetString(OfxPropertySetHandle h, const char* n, int i, const char* v)
{
    if (!v) return kOfxStatErrValue;
    return SetOne<PropType::String>(h, n, i, std::string(v));
}
OfxStatus propSetDouble(OfxPropertySetHandle h, const char* n, int i, double v)
{
    return SetOne<PropType::Double>(h, n, i, v);
}
OfxStatus propSetInt(OfxPropertySetHandle h, const char* n, int i, int v) { return SetOne<PropType::Int>(h, n, i, v); }
OfxStatus propSetPointerN(OfxPropertySetHandle h, const char* n, int c, void* const* v)
{
    return SetMany<PropType::Pointer>(h, n, c, v);
}
OfxStatus propSetStringN(OfxPropertySetHandle h, const char* n, int c, const char* const* v)
{
    std::vector<std::string> s;
    for (int k = 0; k < c; ++k) s.push_back(v && v[k] ? v[k] : "");
    return SetMany<PropType::String>(h, n, c, s.data());
}
OfxStatus propSetDoubleN(OfxPropertySetHandle h, const char* n, int c, const double* v)
{
    return SetMany<PropType::Double>(h, n, c, v);
}
OfxStatus propSetIntN(OfxPropertySetHandle h, const char* n, int c, const int* v)
{
    return SetMany<PropType::Int>(h, n, c, v);
}
OfxStatus propGetPointer(OfxPropertySetHandle h, const char* n, int i, void** v)
{
    return GetOne<PropType::Pointer>(h, n, i, v);
}
OfxStatus propGetString(OfxPropertySetHandle h, const char* n, int i, char** v)
{
    Prop* p = nullptr;
    OfxStatus st = Lookup<PropType::String>(h, n, false, &p);
    if (st != kOfxStatOK) return st;
    if (i < 0 || (size_t)i >= p->s.size()) return kOfxStatErrBadIndex;
    *v = const_cast<char*>(p->s[(size_t)i].c_str());
    return kOfxStatOK;
}
OfxStatus propGetDouble(OfxPropertySetHandle h, const char* n, int i, double* v)
{
    return GetOne<PropType::Double>(h, n, i, v);
}
OfxStatus propGetInt(OfxPropertySetHandle h, const char* n, int i, int* v) { return GetOne<PropType::Int>(h, n, i, v); }
OfxStatus propGetPointerN(OfxPropertySetHandle h, const char* n, int c, void** v)
{
    return GetMany<PropType::Pointer>(h, n, c, v);
}
OfxStatus propGetStringN(OfxPropertySetHandle h, const char* n, int c, char** v)
{
    Prop* p = nullptr;
    OfxStatus st = Lookup<PropType::String>(h, n, false, &p);
    if (st != kOfxStatOK) return st;
    if (c < 0 || (size_t)c > p->s.size()) return kOfxStatErrBadIndex;
    for (int k = 0; k < c; ++k) v[k] = const_cast<char*>(p->s[(size_t)k].c_str());
    return kOfxStatOK;
}
OfxStatus propGetDoubleN(OfxPropertySetHandle h, const char* n, int c, double* v)
{
    return GetMany<PropType::Double>(h, n, c, v);
}
OfxStatus propGetIntN(OfxPropertySetHandle h, const char* n, int c, int* v)
{
    return GetMany<PropType::Int>(h, n, c, v);
}
OfxStatus propReset(OfxPropertySetHandle h, const char* n)
{
    PropertySet* ps = AsProps(h);
    if (!ps) return kOfxStatErrBadHandle;
    auto it = ps->props.find(n ? n : "");
    if (it == ps->props.end()) return kOfxStatErrUnknown;
    it->second.i.clear();
    it->second.d.clear();
    it->second.s.clear();
    it->second.p.clear();
    return kOfxStatOK;
}
OfxStatus propGetDimension(OfxPropertySetHandle h, const char* n, int* count)
{
    PropertySet* ps = AsProps(h);
    if (!ps) return kOfxStatErrBadHandle;
    auto it = ps->props.find(n ? n : "");
    if (it == ps->props.end()) return kOfxStatErrUnknown;
    *count = (int)it->second.Size();
    return kOfxStatOK;
}

const OfxPropertySuiteV1 kPropertySuite = {
    propSetPointer,  propSetString,  propSetDouble,  propSetInt,    propSetPointerN, propSetStringN,
    propSetDoubleN,  propSetIntN,    propGetPointer, propGetString, propGetDouble,   propGetInt,
    propGetPointerN, propGetStringN, propGetDoubleN, propGetIntN,   propReset,       propGetDimension,
};

// ---- parameter suite ----

ParamSet* AsParamSet(OfxParamSetHandle h)
{
    auto* p = reinterpret_cast<ParamSet*>(h);
    return (p && p->magic == 0x50534554) ? p : nullptr;
}

Param* AsParam(OfxParamHandle h)
{
    auto* p = reinterpret_cast<Param*>(h);
    return (p && p->magic == 0x5041524d) ? p : nullptr;
}

bool IsIntParam(const std::string& t)
{
    return t == kOfxParamTypeInteger || t == kOfxParamTypeBoolean || t == kOfxParamTypeChoice;
}

OfxStatus paramDefine(OfxParamSetHandle set, const char* type, const char* name, OfxPropertySetHandle* props)
{
    ParamSet* ps = AsParamSet(set);
    if (!ps) return kOfxStatErrBadHandle;
    if (!type || !name) return kOfxStatErrValue;
    std::string t = type;
    if (t != kOfxParamTypeInteger && t != kOfxParamTypeDouble && t != kOfxParamTypeBoolean &&
        t != kOfxParamTypeChoice && t != kOfxParamTypeString && t != kOfxParamTypeGroup && t != kOfxParamTypePage &&
        t != kOfxParamTypePushButton)
        return kOfxStatErrUnknown;
    if (g_host->refusedParamTypes.count(t)) return kOfxStatErrUnsupported;
    if (ps->Find(name)) return kOfxStatErrExists;
    auto p = std::make_unique<Param>();
    p->name = name;
    p->type = t;
    p->props.what = std::string("parameter ") + name;
    p->props.SetString(kOfxPropType, {kOfxTypeParameter});
    p->props.SetString(kOfxPropName, {name});
    p->props.SetString(kOfxParamPropType, {t});
    p->props.SetString(kOfxPropLabel, {name});
    p->props.SetString(kOfxParamPropScriptName, {name});
    p->props.SetString(kOfxParamPropHint, {""});
    p->props.SetInt(kOfxParamPropAnimates, {1});
    p->props.SetInt(kOfxParamPropEvaluateOnChange, {1});
    p->props.SetInt(kOfxParamPropEnabled, {1});
    p->props.SetInt(kOfxParamPropSecret, {0});
    p->props.SetString(kOfxParamPropCacheInvalidation, {kOfxParamInvalidateValueChange});
    if (t == kOfxParamTypeDouble) {
        p->props.SetDouble(kOfxParamPropDefault, {0.0});
        p->props.SetDouble(kOfxParamPropMin, {-1e300});
        p->props.SetDouble(kOfxParamPropMax, {1e300});
        p->props.SetDouble(kOfxParamPropDisplayMin, {-1e300});
        p->props.SetDouble(kOfxParamPropDisplayMax, {1e300});
        p->props.SetDouble(kOfxParamPropIncrement, {1.0});
        p->props.SetInt(kOfxParamPropDigits, {2});
        p->props.SetString(kOfxParamPropDoubleType, {kOfxParamDoubleTypePlain});
    } else if (IsIntParam(t)) {
        p->props.SetInt(kOfxParamPropDefault, {0});
        if (t == kOfxParamTypeInteger) {
            p->props.SetInt(kOfxParamPropMin, {INT_MIN});
            p->props.SetInt(kOfxParamPropMax, {INT_MAX});
            p->props.SetInt(kOfxParamPropDisplayMin, {INT_MIN});
            p->props.SetInt(kOfxParamPropDisplayMax, {INT_MAX});
        }
        if (t == kOfxParamTypeChoice) p->props.SetString(kOfxParamPropChoiceOption, {});
    } else if (t == kOfxParamTypeString) {
        p->props.SetString(kOfxParamPropDefault, {""});
        p->props.SetString(kOfxParamPropStringMode, {kOfxParamStringIsSingleLine});
        p->props.SetInt(kOfxParamPropStringFilePathExists, {1});
    }
    if (props) *props = p->props.Handle();
    ps->params.push_back(std::move(p));
    return kOfxStatOK;
}

OfxStatus paramGetHandle(OfxParamSetHandle set, const char* name, OfxParamHandle* param, OfxPropertySetHandle* props)
{
    ParamSet* ps = AsParamSet(set);
    if (!ps) return kOfxStatErrBadHandle;
    Param* p = ps->Find(name ? name : "");
    if (!p) return kOfxStatErrUnknown;
    if (param) *param = reinterpret_cast<OfxParamHandle>(p);
    if (props) *props = p->props.Handle();
    return kOfxStatOK;
}

OfxStatus paramSetGetPropertySet(OfxParamSetHandle set, OfxPropertySetHandle* props)
{
    ParamSet* ps = AsParamSet(set);
    if (!ps) return kOfxStatErrBadHandle;
    *props = ps->props.Handle();
    return kOfxStatOK;
}

OfxStatus paramGetPropertySet(OfxParamHandle param, OfxPropertySetHandle* props)
{
    Param* p = AsParam(param);
    if (!p) return kOfxStatErrBadHandle;
    *props = p->props.Handle();
    return kOfxStatOK;
}

OfxStatus GetValueAt(Param* p, double t, va_list ap)
{
    if (g_host->unreadableParams.count(p->name)) return kOfxStatErrUnsupported;
    if (p->type == kOfxParamTypeDouble) {
        double* out = va_arg(ap, double*);
        if (!out) return kOfxStatErrValue;
        *out = p->DoubleAt(t);
    } else if (IsIntParam(p->type)) {
        int* out = va_arg(ap, int*);
        if (!out) return kOfxStatErrValue;
        *out = p->IntAt(t);
    } else if (p->type == kOfxParamTypeString) {
        char** out = va_arg(ap, char**);
        if (!out) return kOfxStatErrValue;
        *out = const_cast<char*>(p->StringAt(t).c_str());
    } else {
        return kOfxStatErrUnsupported;
    }
    return kOfxStatOK;
}

OfxStatus paramGetValue(OfxParamHandle h, ...)
{
    Param* p = AsParam(h);
    if (!p) return kOfxStatErrBadHandle;
    va_list ap;
    va_start(ap, h);
    OfxStatus st = GetValueAt(p, t_currentTime, ap);
    va_end(ap);
    return st;
}

OfxStatus paramGetValueAtTime(OfxParamHandle h, OfxTime t, ...)
{
    Param* p = AsParam(h);
    if (!p) return kOfxStatErrBadHandle;
    va_list ap;
    va_start(ap, t);
    OfxStatus st = GetValueAt(p, t, ap);
    va_end(ap);
    return st;
}

OfxStatus paramGetDerivative(OfxParamHandle, OfxTime, ...) { return kOfxStatErrUnsupported; }
OfxStatus paramGetIntegral(OfxParamHandle, OfxTime, OfxTime, ...) { return kOfxStatErrUnsupported; }

OfxStatus SetValue(Param* p, bool keyed, double t, va_list ap)
{
    if (p->type == kOfxParamTypeDouble) {
        double v = va_arg(ap, double);
        if (keyed)
            p->dKeys[t] = v;
        else {
            p->d = v;
            p->dKeys.clear();
        }
    } else if (IsIntParam(p->type)) {
        int v = va_arg(ap, int);
        if (keyed)
            p->iKeys[t] = v;
        else {
            p->i = v;
            p->iKeys.clear();
        }
    } else if (p->type == kOfxParamTypeString) {
        const char* v = va_arg(ap, const char*);
        if (keyed)
            p->sKeys[t] = v ? v : "";
        else {
            p->s = v ? v : "";
            p->sKeys.clear();
        }
    } else {
        return kOfxStatErrUnsupported;
    }
    return kOfxStatOK;
}

OfxStatus paramSetValue(OfxParamHandle h, ...)
{
    Param* p = AsParam(h);
    if (!p) return kOfxStatErrBadHandle;
    va_list ap;
    va_start(ap, h);
    OfxStatus st = SetValue(p, false, 0, ap);
    va_end(ap);
    return st;
}

OfxStatus paramSetValueAtTime(OfxParamHandle h, OfxTime t, ...)
{
    Param* p = AsParam(h);
    if (!p) return kOfxStatErrBadHandle;
    va_list ap;
    va_start(ap, t);
    OfxStatus st = SetValue(p, true, t, ap);
    va_end(ap);
    return st;
}

std::vector<double> KeyTimes(const Param* p)
{
    std::vector<double> t;
    for (auto& k : p->dKeys) t.push_back(k.first);
    for (auto& k : p->iKeys) t.push_back(k.first);
    for (auto& k : p->sKeys) t.push_back(k.first);
    std::sort(t.begin(), t.end());
    return t;
}

OfxStatus paramGetNumKeys(OfxParamHandle h, unsigned int* n)
{
    Param* p = AsParam(h);
    if (!p) return kOfxStatErrBadHandle;
    *n = (unsigned)KeyTimes(p).size();
    return kOfxStatOK;
}

OfxStatus paramGetKeyTime(OfxParamHandle h, unsigned int nth, OfxTime* t)
{
    Param* p = AsParam(h);
    if (!p) return kOfxStatErrBadHandle;
    auto times = KeyTimes(p);
    if (nth >= times.size()) return kOfxStatErrBadIndex;
    *t = times[nth];
    return kOfxStatOK;
}

OfxStatus paramGetKeyIndex(OfxParamHandle h, OfxTime t, int direction, int* index)
{
    Param* p = AsParam(h);
    if (!p) return kOfxStatErrBadHandle;
    auto times = KeyTimes(p);
    *index = -1;
    for (size_t k = 0; k < times.size(); ++k) {
        if (direction == 0 && std::fabs(times[k] - t) < 1e-6) *index = (int)k;
        if (direction > 0 && times[k] > t && *index < 0) *index = (int)k;
        if (direction < 0 && times[k] < t) *index = (int)k;
    }
    return *index < 0 ? kOfxStatFailed : kOfxStatOK;
}

OfxStatus paramDeleteKey(OfxParamHandle h, OfxTime t)
{
    Param* p = AsParam(h);
    if (!p) return kOfxStatErrBadHandle;
    size_t n = p->dKeys.erase(t) + p->iKeys.erase(t) + p->sKeys.erase(t);
    return n ? kOfxStatOK : kOfxStatErrBadIndex;
}

OfxStatus paramDeleteAllKeys(OfxParamHandle h)
{
    Param* p = AsParam(h);
    if (!p) return kOfxStatErrBadHandle;
    p->dKeys.clear();
    p->iKeys.clear();
    p->sKeys.clear();
    return kOfxStatOK;
}

OfxStatus paramCopy(OfxParamHandle, OfxParamHandle, OfxTime, const OfxRangeD*) { return kOfxStatErrUnsupported; }
OfxStatus paramEditBegin(OfxParamSetHandle, const char*) { return kOfxStatOK; }
OfxStatus paramEditEnd(OfxParamSetHandle) { return kOfxStatOK; }

const OfxParameterSuiteV1 kParameterSuite = {
    paramDefine,         paramGetHandle,     paramSetGetPropertySet, paramGetPropertySet, paramGetValue,
    paramGetValueAtTime, paramGetDerivative, paramGetIntegral,       paramSetValue,       paramSetValueAtTime,
    paramGetNumKeys,     paramGetKeyTime,    paramGetKeyIndex,       paramDeleteKey,      paramDeleteAllKeys,
    paramCopy,           paramEditBegin,     paramEditEnd,
};

// ---- image effect suite ----

Effect* AsEffect(OfxImageEffectHandle h)
{
    auto* e = reinterpret_cast<Effect*>(h);
    return (e && e->magic == 0x45464654) ? e : nullptr;
}

Clip* AsClip(OfxImageClipHandle h)
{
    auto* c = reinterpret_cast<Clip*>(h);
    return (c && c->magic == 0x434c4950) ? c : nullptr;
}

struct ImageMemory {
    std::vector<uint8_t> bytes;
    int locks = 0;
};

OfxStatus getPropertySet(OfxImageEffectHandle h, OfxPropertySetHandle* props)
{
    Effect* e = AsEffect(h);
    if (!e) return kOfxStatErrBadHandle;
    *props = e->props.Handle();
    return kOfxStatOK;
}

OfxStatus getParamSet(OfxImageEffectHandle h, OfxParamSetHandle* set)
{
    Effect* e = AsEffect(h);
    if (!e) return kOfxStatErrBadHandle;
    *set = reinterpret_cast<OfxParamSetHandle>(&e->params);
    return kOfxStatOK;
}

OfxStatus clipDefine(OfxImageEffectHandle h, const char* name, OfxPropertySetHandle* props)
{
    Effect* e = AsEffect(h);
    if (!e || !e->descriptor || e->context.empty()) {
        g_host->Violation("clipDefine outside DescribeInContext");
        return kOfxStatErrBadHandle;
    }
    if (!name) return kOfxStatErrValue;
    if (e->clips.count(name)) return kOfxStatErrExists;
    auto c = std::make_unique<Clip>();
    c->name = name;
    c->owner = e;
    c->props.what = std::string("clip ") + name;
    c->props.SetString(kOfxPropType, {kOfxTypeClip});
    c->props.SetString(kOfxPropName, {name});
    c->props.SetString(kOfxPropLabel, {name});
    c->props.SetString(kOfxImageEffectPropSupportedComponents, {});
    c->props.SetInt(kOfxImageEffectPropTemporalClipAccess, {0});
    c->props.SetInt(kOfxImageClipPropOptional, {0});
    c->props.SetInt(kOfxImageEffectPropSupportsTiles, {1});
    c->props.SetInt(kOfxImageClipPropIsMask, {0});
    if (props) *props = c->props.Handle();
    e->clipOrder.push_back(name);
    e->clips[name] = std::move(c);
    return kOfxStatOK;
}

OfxStatus clipGetHandle(OfxImageEffectHandle h, const char* name, OfxImageClipHandle* clip, OfxPropertySetHandle* props)
{
    Effect* e = AsEffect(h);
    if (!e) return kOfxStatErrBadHandle;
    if (e->descriptor) {
        g_host->Violation("clipGetHandle on a descriptor");
        return kOfxStatErrBadHandle;
    }
    auto it = e->clips.find(name ? name : "");
    if (it == e->clips.end()) return kOfxStatErrUnknown;
    if (clip) *clip = reinterpret_cast<OfxImageClipHandle>(it->second.get());
    if (props) *props = it->second->props.Handle();
    return kOfxStatOK;
}

OfxStatus clipGetPropertySet(OfxImageClipHandle h, OfxPropertySetHandle* props)
{
    Clip* c = AsClip(h);
    if (!c) return kOfxStatErrBadHandle;
    *props = c->props.Handle();
    return kOfxStatOK;
}

int BytesPerPixel(const std::string& depth) { return depth == kOfxBitDepthFloat ? 16 : 4; }

OfxRectI PixelBounds(const Sequence& seq, double scale)
{
    int w = 0, h = 0;
    int f = std::max(1, (int)std::lround(1.0 / scale));
    w = seq.width / f;
    h = seq.height / f;
    OfxRectI b;
    b.x1 = (int)std::floor(seq.origin.x * scale);
    b.y1 = (int)std::floor(seq.origin.y * scale);
    b.x2 = b.x1 + w;
    b.y2 = b.y1 + h;
    return b;
}

OfxStatus clipGetImage(OfxImageClipHandle h, OfxTime t, const OfxRectD* region, OfxPropertySetHandle* out)
{
    Clip* c = AsClip(h);
    if (!c || !out) return kOfxStatErrBadHandle;
    Effect* e = c->owner;
    *out = nullptr;
    if (!e->rendering) {
        g_host->Violation("clipGetImage outside a render");
        return kOfxStatFailed;
    }
    Host* host = g_host;
    auto img = std::make_unique<Image>();
    img->props.what = "image of " + c->name;
    if (c->name == kOfxImageEffectOutputClipName) {
        if (std::fabs(t - e->renderTime) > 1e-9) {
            host->Violation("output image fetched at " + std::to_string(t) + " while rendering " +
                            std::to_string(e->renderTime));
            return kOfxStatFailed;
        }
        img->props = e->output->props;  // same pixels, its own handle
    } else {
        host->imageFetches++;
        if (t < e->allowed.min - 1e-9 || t > e->allowed.max + 1e-9) {
            host->Violation("source frame " + std::to_string(t) + " fetched while rendering " +
                            std::to_string(e->renderTime) + " but GetFramesNeeded declared [" +
                            std::to_string(e->allowed.min) + ", " + std::to_string(e->allowed.max) + "]");
        }
        if (!host->source.Has(t)) return kOfxStatFailed;
        int w = 0, hh = 0;
        std::vector<uint8_t> top = ScaledFrame(host->source, t, e->renderScale, e->depth, &w, &hh);
        const int bpp = BytesPerPixel(e->depth);
        const int stride = w * bpp + host->sourceRowPadding;  // padded rows: the plugin must honour rowBytes
        img->pixels.assign((size_t)stride * hh, 0);
        // OFX row y (0 = bottom) is memory row y, or hh - 1 - y when the rows are stored top-down.
        for (int y = 0; y < hh; ++y)
            std::memcpy(img->pixels.data() + (size_t)(host->sourceTopDown ? hh - 1 - y : y) * stride,
                        top.data() + (size_t)(hh - 1 - y) * w * bpp, (size_t)w * bpp);
        uint8_t* data = img->pixels.data() + (host->sourceTopDown ? (size_t)(hh - 1) * stride : 0);
        const int rowBytes = host->sourceTopDown ? -stride : stride;
        OfxRectI b = PixelBounds(host->source, e->renderScale);
        img->props.SetString(kOfxPropType, {kOfxTypeImage});
        img->props.SetPointer(kOfxImagePropData, data);
        img->props.SetInt(kOfxImagePropBounds, {b.x1, b.y1, b.x2, b.y2});
        img->props.SetInt(kOfxImagePropRegionOfDefinition, {b.x1, b.y1, b.x2, b.y2});
        img->props.SetInt(kOfxImagePropRowBytes, {rowBytes});
        img->props.SetString(kOfxImageEffectPropPixelDepth, {e->depth});
        img->props.SetString(kOfxImageEffectPropComponents, {kOfxImageComponentRGBA});
        img->props.SetString(kOfxImageEffectPropPreMultiplication, {host->premultiplication});
        img->props.SetDouble(kOfxImagePropPixelAspectRatio, {1.0});
        img->props.SetDouble(kOfxImageEffectPropRenderScale, {e->renderScale, e->renderScale});
        img->props.SetString(kOfxImagePropField, {kOfxImageFieldNone});
        img->props.SetString(kOfxImagePropUniqueIdentifier, {"source@" + std::to_string(t)});
    }
    (void)region;
    PropertySet* handle = &img->props;
    img->props.SetPointer("TestHostOwner", e);
    std::lock_guard<std::mutex> g(host->lock);
    host->liveImages[handle] = std::move(img);
    *out = handle->Handle();
    return kOfxStatOK;
}

OfxStatus clipReleaseImage(OfxPropertySetHandle h)
{
    PropertySet* ps = AsProps(h);
    std::lock_guard<std::mutex> g(g_host->lock);
    auto it = g_host->liveImages.find(ps);
    if (it == g_host->liveImages.end()) {
        g_host->violations.push_back("clipReleaseImage of an unknown image");
        return kOfxStatErrBadHandle;
    }
    g_host->liveImages.erase(it);
    return kOfxStatOK;
}

OfxStatus clipGetRegionOfDefinition(OfxImageClipHandle h, OfxTime, OfxRectD* rod)
{
    Clip* c = AsClip(h);
    if (!c || !rod) return kOfxStatErrBadHandle;
    const Sequence& s = g_host->source;
    *rod = OfxRectD{(double)s.origin.x, (double)s.origin.y, (double)(s.origin.x + s.width),
                    (double)(s.origin.y + s.height)};
    return kOfxStatOK;
}

int abortRender(OfxImageEffectHandle) { return 0; }

OfxStatus imageMemoryAlloc(OfxImageEffectHandle, size_t n, OfxImageMemoryHandle* out)
{
    auto* m = new ImageMemory();
    m->bytes.resize(n);
    std::lock_guard<std::mutex> g(g_host->lock);
    g_host->liveImageMemory.insert(m);
    *out = reinterpret_cast<OfxImageMemoryHandle>(m);
    return kOfxStatOK;
}

OfxStatus imageMemoryFree(OfxImageMemoryHandle h)
{
    std::lock_guard<std::mutex> g(g_host->lock);
    if (!g_host->liveImageMemory.erase(h)) {
        g_host->violations.push_back("imageMemoryFree of an unknown handle");
        return kOfxStatErrBadHandle;
    }
    delete reinterpret_cast<ImageMemory*>(h);
    return kOfxStatOK;
}

OfxStatus imageMemoryLock(OfxImageMemoryHandle h, void** ptr)
{
    std::lock_guard<std::mutex> g(g_host->lock);
    if (!g_host->liveImageMemory.count(h)) return kOfxStatErrBadHandle;
    auto* m = reinterpret_cast<ImageMemory*>(h);
    m->locks++;
    *ptr = m->bytes.data();
    return kOfxStatOK;
}

OfxStatus imageMemoryUnlock(OfxImageMemoryHandle h)
{
    std::lock_guard<std::mutex> g(g_host->lock);
    if (!g_host->liveImageMemory.count(h)) return kOfxStatErrBadHandle;
    auto* m = reinterpret_cast<ImageMemory*>(h);
    if (m->locks > 0) m->locks--;
    return kOfxStatOK;
}

const OfxImageEffectSuiteV1 kImageEffectSuite = {
    getPropertySet,     getParamSet,      clipDefine,       clipGetHandle,
    clipGetPropertySet, clipGetImage,     clipReleaseImage, clipGetRegionOfDefinition,
    abortRender,        imageMemoryAlloc, imageMemoryFree,  imageMemoryLock,
    imageMemoryUnlock,
};

// ---- memory suite ----

OfxStatus memoryAlloc(void*, size_t n, void** out)
{
    void* p = std::malloc(n ? n : 1);
    if (!p) return kOfxStatErrMemory;
    std::lock_guard<std::mutex> g(g_host->lock);
    g_host->liveMemory.insert(p);
    *out = p;
    return kOfxStatOK;
}

OfxStatus memoryFree(void* p)
{
    std::lock_guard<std::mutex> g(g_host->lock);
    if (!g_host->liveMemory.erase(p)) {
        g_host->violations.push_back("memoryFree of a pointer the memory suite did not allocate");
        return kOfxStatErrBadHandle;
    }
    std::free(p);
    return kOfxStatOK;
}

const OfxMemorySuiteV1 kMemorySuite = {memoryAlloc, memoryFree};

// ---- multi-thread suite ----

struct HostMutex {
    std::recursive_mutex m;
};

OfxStatus multiThread(OfxThreadFunctionV1 func, unsigned int n, void* arg)
{
    if (n == 0) n = 1;
    std::vector<std::thread> threads;
    for (unsigned k = 0; k < n; ++k)
        threads.emplace_back([=] {
            t_threadIndex = k;
            t_spawned = true;
            func(k, n, arg);
        });
    for (auto& t : threads) t.join();
    return kOfxStatOK;
}
OfxStatus multiThreadNumCPUs(unsigned int* n)
{
    *n = std::max(1u, std::thread::hardware_concurrency());
    return kOfxStatOK;
}
OfxStatus multiThreadIndex(unsigned int* i)
{
    *i = t_threadIndex;
    return kOfxStatOK;
}
int multiThreadIsSpawnedThread(void) { return t_spawned ? 1 : 0; }
OfxStatus mutexCreate(OfxMutexHandle* out, int lockCount)
{
    auto* m = new HostMutex();
    for (int k = 0; k < lockCount; ++k) m->m.lock();
    *out = reinterpret_cast<OfxMutexHandle>(m);
    return kOfxStatOK;
}
OfxStatus mutexDestroy(const OfxMutexHandle h)
{
    delete reinterpret_cast<HostMutex*>(h);
    return kOfxStatOK;
}
OfxStatus mutexLock(const OfxMutexHandle h)
{
    reinterpret_cast<HostMutex*>(h)->m.lock();
    g_host->mutexLocks_++;
    return kOfxStatOK;
}
OfxStatus mutexUnLock(const OfxMutexHandle h)
{
    reinterpret_cast<HostMutex*>(h)->m.unlock();
    return kOfxStatOK;
}
OfxStatus mutexTryLock(const OfxMutexHandle h)
{
    return reinterpret_cast<HostMutex*>(h)->m.try_lock() ? kOfxStatOK : kOfxStatFailed;
}

const OfxMultiThreadSuiteV1 kMultiThreadSuite = {
    multiThread, multiThreadNumCPUs, multiThreadIndex, multiThreadIsSpawnedThread, mutexCreate, mutexDestroy,
    mutexLock,   mutexUnLock,        mutexTryLock,
};

// ---- message suite ----

OfxStatus PostMessage(void* handle, const char* type, const char* id, bool persistent, const char* format, va_list ap)
{
    char buffer[4096];
    std::vsnprintf(buffer, sizeof buffer, format ? format : "", ap);
    std::lock_guard<std::mutex> g(g_host->lock);
    g_host->messages.push_back(Message{handle, type ? type : "", id ? id : "", buffer, persistent});
    return kOfxStatOK;
}

OfxStatus message(void* handle, const char* type, const char* id, const char* format, ...)
{
    va_list ap;
    va_start(ap, format);
    OfxStatus st = PostMessage(handle, type, id, false, format, ap);
    va_end(ap);
    return st;
}

OfxStatus setPersistentMessage(void* handle, const char* type, const char* id, const char* format, ...)
{
    if (!handle) return kOfxStatErrBadHandle;
    va_list ap;
    va_start(ap, format);
    OfxStatus st = PostMessage(handle, type, id, true, format, ap);
    va_end(ap);
    return st;
}

OfxStatus clearPersistentMessage(void* handle)
{
    if (!handle) return kOfxStatErrBadHandle;
    g_host->persistentClears_++;
    return kOfxStatOK;
}

const OfxMessageSuiteV2 kMessageSuite = {message, setPersistentMessage, clearPersistentMessage};

const void* fetchSuite(OfxPropertySetHandle host, const char* name, int version)
{
    if (!g_host || !name) return nullptr;
    if (AsProps(host) != &g_host->hostProps)
        g_host->Violation("fetchSuite called with a handle other than OfxHost::host");
    {
        std::lock_guard<std::mutex> g(g_host->lock);
        g_host->suitesFetched.insert(std::string(name) + " v" + std::to_string(version));
    }
    std::string n = name;
    if (n == kOfxPropertySuite && version == 1) return &kPropertySuite;
    if (n == kOfxImageEffectSuite && version == 1) return &kImageEffectSuite;
    if (n == kOfxParameterSuite && version == 1) return &kParameterSuite;
    if (n == kOfxMemorySuite && version == 1) return &kMemorySuite;
    if (n == kOfxMultiThreadSuite && version == 1) return &kMultiThreadSuite;
    if (n == kOfxMessageSuite && (version == 1 || version == 2)) return &kMessageSuite;  // V2 extends V1's layout
    return nullptr;
}

}  // namespace

// ---- PropertySet helpers ---------------------------------------------------------------------------------------

size_t Prop::Size() const
{
    switch (type) {
    case PropType::Int: return i.size();
    case PropType::Double: return d.size();
    case PropType::String: return s.size();
    case PropType::Pointer: return p.size();
    }
    return 0;
}

void PropertySet::SetInt(const std::string& n, std::vector<int> v)
{
    Prop& p = props[n];
    p = Prop();
    p.type = PropType::Int;
    p.i = std::move(v);
}
void PropertySet::SetDouble(const std::string& n, std::vector<double> v)
{
    Prop& p = props[n];
    p = Prop();
    p.type = PropType::Double;
    p.d = std::move(v);
}
void PropertySet::SetString(const std::string& n, std::vector<std::string> v)
{
    Prop& p = props[n];
    p = Prop();
    p.type = PropType::String;
    p.s = std::move(v);
}
void PropertySet::SetPointer(const std::string& n, void* v)
{
    Prop& p = props[n];
    p = Prop();
    p.type = PropType::Pointer;
    p.p = {v};
}

int PropertySet::Int(const std::string& n, int index, int fallback) const
{
    auto it = props.find(n);
    if (it == props.end() || it->second.type != PropType::Int || (size_t)index >= it->second.i.size()) return fallback;
    return it->second.i[(size_t)index];
}
double PropertySet::Double(const std::string& n, int index, double fallback) const
{
    auto it = props.find(n);
    if (it == props.end() || it->second.type != PropType::Double || (size_t)index >= it->second.d.size())
        return fallback;
    return it->second.d[(size_t)index];
}
std::string PropertySet::String(const std::string& n, int index) const
{
    auto it = props.find(n);
    if (it == props.end() || it->second.type != PropType::String || (size_t)index >= it->second.s.size()) return "";
    return it->second.s[(size_t)index];
}
std::vector<std::string> PropertySet::Strings(const std::string& n) const
{
    auto it = props.find(n);
    if (it == props.end() || it->second.type != PropType::String) return {};
    return it->second.s;
}
std::vector<double> PropertySet::Doubles(const std::string& n) const
{
    auto it = props.find(n);
    if (it == props.end() || it->second.type != PropType::Double) return {};
    return it->second.d;
}
void* PropertySet::Pointer(const std::string& n) const
{
    auto it = props.find(n);
    if (it == props.end() || it->second.type != PropType::Pointer || it->second.p.empty()) return nullptr;
    return it->second.p[0];
}

// ---- Param -------------------------------------------------------------------------------------------------------

double Param::DoubleAt(double t) const
{
    if (dKeys.empty()) return d;
    auto hi = dKeys.lower_bound(t);
    if (hi == dKeys.begin()) return hi->second;
    if (hi == dKeys.end()) return std::prev(hi)->second;
    if (hi->first == t) return hi->second;
    auto lo = std::prev(hi);
    double a = (t - lo->first) / (hi->first - lo->first);
    return lo->second + a * (hi->second - lo->second);
}

int Param::IntAt(double t) const
{
    if (iKeys.empty()) return i;
    auto it = iKeys.upper_bound(t);
    return it == iKeys.begin() ? it->second : std::prev(it)->second;
}

const std::string& Param::StringAt(double t) const
{
    if (sKeys.empty()) return s;
    auto it = sKeys.upper_bound(t);
    return it == sKeys.begin() ? it->second : std::prev(it)->second;
}

Param* ParamSet::Find(const std::string& name) const
{
    for (auto& p : params)
        if (p->name == name) return p.get();
    return nullptr;
}

// ---- Sequence ------------------------------------------------------------------------------------------------------

Sequence Sequence::Panning(const std::vector<uint8_t>& rgba, int w, int h, int first, int last, int shift)
{
    Sequence s;
    s.width = w;
    s.height = h;
    s.first = first;
    s.last = last;
    for (int t = first; t <= last; ++t) {
        std::vector<uint8_t> f((size_t)w * h * 4);
        int off = ((t * shift) % w + w) % w;
        for (int y = 0; y < h; ++y)
            for (int x = 0; x < w; ++x)
                std::memcpy(&f[((size_t)y * w + x) * 4], &rgba[((size_t)y * w + (size_t)((x + off) % w)) * 4], 4);
        s.frames.push_back(std::move(f));
    }
    return s;
}

std::vector<uint8_t> Sequence::Synthetic(int w, int h)
{
    std::vector<uint8_t> p((size_t)w * h * 4);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            uint8_t* q = &p[((size_t)y * w + x) * 4];
            q[0] = (uint8_t)(255 * x / std::max(1, w - 1));
            q[1] = (uint8_t)(255 * y / std::max(1, h - 1));
            q[2] = (uint8_t)((((x / 12) + (y / 12)) % 2) ? 200 : 40);
            q[3] = 255;
        }
    return p;
}

bool Sequence::Has(double t) const
{
    double r = std::round(t);
    return std::fabs(r - t) < 1e-9 && r >= first && r <= last;
}

const std::vector<uint8_t>& Sequence::At(double t) const { return frames[(size_t)(std::lround(t) - first)]; }

std::vector<uint8_t> ScaledFrame(const Sequence& seq, double t, double scale, const std::string& depth, int* wOut,
                                 int* hOut)
{
    const std::vector<uint8_t>& src = seq.At(t);
    int f = std::max(1, (int)std::lround(1.0 / scale));
    int w = seq.width / f, h = seq.height / f;
    std::vector<uint8_t> rgba8((size_t)w * h * 4);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
            for (int c = 0; c < 4; ++c) {
                int sum = 0;
                for (int dy = 0; dy < f; ++dy)
                    for (int dx = 0; dx < f; ++dx)
                        sum += src[(((size_t)(y * f + dy)) * seq.width + (size_t)(x * f + dx)) * 4 + c];
                rgba8[((size_t)y * w + x) * 4 + c] = (uint8_t)((sum + f * f / 2) / (f * f));
            }
    *wOut = w;
    *hOut = h;
    if (depth != kOfxBitDepthFloat) return rgba8;
    std::vector<uint8_t> out(rgba8.size() * 4);
    for (size_t k = 0; k < rgba8.size(); ++k) {
        float v = rgba8[k] / 255.0f;
        std::memcpy(&out[k * 4], &v, 4);
    }
    return out;
}

// ---- Host ------------------------------------------------------------------------------------------------------

Host* CurrentHost() { return g_host; }

Host::Host()
{
    g_host = this;
    hostProps.what = "host";
    hostProps.SetString(kOfxPropType, {kOfxTypeImageEffectHost});
    hostProps.SetString(kOfxPropName, {"org.stylefilter.TestHost"});
    hostProps.SetString(kOfxPropLabel, {"StyleFilter OFX test host"});
    hostProps.SetInt(kOfxPropAPIVersion, {1, 4});
    hostProps.SetInt(kOfxPropVersion, {1, 0, 0});
    hostProps.SetString(kOfxPropVersionLabel, {"1.0"});
    hostProps.SetInt(kOfxImageEffectHostPropIsBackground, {1});
    hostProps.SetInt(kOfxImageEffectPropSupportsOverlays, {0});
    hostProps.SetInt(kOfxImageEffectPropSupportsMultiResolution, {1});
    hostProps.SetInt(kOfxImageEffectPropSupportsTiles, {1});
    hostProps.SetInt(kOfxImageEffectPropTemporalClipAccess, {1});
    hostProps.SetString(kOfxImageEffectPropSupportedComponents, {kOfxImageComponentRGBA, kOfxImageComponentAlpha});
    hostProps.SetString(kOfxImageEffectPropSupportedContexts,
                        {kOfxImageEffectContextFilter, kOfxImageEffectContextGeneral});
    hostProps.SetString(kOfxImageEffectPropSupportedPixelDepths, {kOfxBitDepthByte, kOfxBitDepthFloat});
    hostProps.SetInt(kOfxImageEffectPropSupportsMultipleClipDepths, {0});
    hostProps.SetInt(kOfxImageEffectPropSupportsMultipleClipPARs, {0});
    hostProps.SetInt(kOfxParamHostPropSupportsStringAnimation, {0});
    hostProps.SetInt(kOfxParamHostPropSupportsChoiceAnimation, {0});
    hostProps.SetInt(kOfxParamHostPropSupportsBooleanAnimation, {0});
    hostProps.SetInt(kOfxParamHostPropMaxParameters, {-1});
    ofxHost.host = hostProps.Handle();
    ofxHost.fetchSuite = fetchSuite;
    descriptor_.params.props.what = "plugin parameter set";
}

Host::~Host()
{
    if (g_host == this) g_host = nullptr;
    // The plugin binary stays loaded: it holds the engine (a .NET runtime), which cannot be unloaded.
}

void Host::Violation(const std::string& what)
{
    std::lock_guard<std::mutex> g(lock);
    violations.push_back(what);
}

std::vector<std::string> Host::Violations()
{
    std::lock_guard<std::mutex> g(lock);
    return violations;
}
std::vector<Message> Host::Messages()
{
    std::lock_guard<std::mutex> g(lock);
    return messages;
}
void Host::ClearMessages()
{
    std::lock_guard<std::mutex> g(lock);
    messages.clear();
}
std::set<std::string> Host::ActionsSent()
{
    std::lock_guard<std::mutex> g(lock);
    return actionsSent;
}
std::set<std::string> Host::SuitesFetched()
{
    std::lock_guard<std::mutex> g(lock);
    return suitesFetched;
}
size_t Host::LiveMemoryBlocks()
{
    std::lock_guard<std::mutex> g(lock);
    return liveMemory.size();
}
size_t Host::LiveImageMemory()
{
    std::lock_guard<std::mutex> g(lock);
    return liveImageMemory.size();
}
size_t Host::LiveImages()
{
    std::lock_guard<std::mutex> g(lock);
    return liveImages.size();
}

bool Host::LoadBundle(const std::string& bundlePath, std::string* error)
{
    // <name>.ofx.bundle/Contents/Linux-x86-64/<name>.ofx
    std::string base = bundlePath;
    while (!base.empty() && base.back() == '/') base.pop_back();
    std::string leaf = base.substr(base.find_last_of('/') + 1);
    const std::string suffix = ".bundle";
    if (leaf.size() <= suffix.size() || leaf.compare(leaf.size() - suffix.size(), suffix.size(), suffix) != 0) {
        *error = bundlePath + " is not a .ofx.bundle folder";
        return false;
    }
    binaryPath_ = base + "/Contents/Linux-x86-64/" + leaf.substr(0, leaf.size() - suffix.size());
    library_ = dlopen(binaryPath_.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!library_) {
        const char* why = dlerror();
        *error = why ? why : "dlopen failed";
        return false;
    }
    auto getCount = reinterpret_cast<OfxGetNumberOfPluginsFn>(dlsym(library_, "OfxGetNumberOfPlugins"));
    auto getPlugin = reinterpret_cast<OfxGetPluginFn>(dlsym(library_, "OfxGetPlugin"));
    if (!getCount || !getPlugin) {
        *error = "the binary does not export OfxGetNumberOfPlugins and OfxGetPlugin";
        return false;
    }
    pluginCount_ = getCount();
    for (int n = 0; n < pluginCount_; ++n) {
        OfxPlugin* p = getPlugin(n);
        if (p && p->pluginApi && std::strcmp(p->pluginApi, kOfxImageEffectPluginApi) == 0 &&
            p->apiVersion == kOfxImageEffectPluginApiVersion) {
            plugin_ = p;
            break;
        }
    }
    if (!plugin_) {
        *error = "no image effect plugin (API " kOfxImageEffectPluginApi " version 1) in the binary";
        return false;
    }
    plugin_->setHost(&ofxHost);
    descriptor_.props.what = "plugin descriptor";
    descriptor_.props.SetString(kOfxPropType, {kOfxTypeImageEffect});
    descriptor_.props.SetString(kOfxPluginPropFilePath, {base});
    descriptor_.props.SetString(kOfxPropLabel, {""});
    descriptor_.props.SetInt(kOfxPropVersion, {0});
    descriptor_.props.SetString(kOfxImageEffectPluginRenderThreadSafety, {kOfxImageEffectRenderInstanceSafe});
    descriptor_.props.SetInt(kOfxImageEffectPluginPropSingleInstance, {0});
    descriptor_.props.SetInt(kOfxImageEffectPluginPropHostFrameThreading, {1});
    descriptor_.props.SetInt(kOfxImageEffectPropSupportsMultiResolution, {1});
    descriptor_.props.SetInt(kOfxImageEffectPropSupportsTiles, {1});
    descriptor_.props.SetInt(kOfxImageEffectPropTemporalClipAccess, {0});
    descriptor_.props.SetString(kOfxImageEffectPropSupportedPixelDepths, {});
    descriptor_.props.SetString(kOfxImageEffectPropSupportedContexts, {});
    return true;
}

OfxStatus Host::Action(const char* action, const void* handle, PropertySet* inArgs, PropertySet* outArgs)
{
    {
        std::lock_guard<std::mutex> g(lock);
        actionsSent.insert(action);
    }
    if (inArgs && inArgs->Has(kOfxPropTime)) t_currentTime = inArgs->Double(kOfxPropTime);
    return plugin_->mainEntry(action, handle, inArgs ? inArgs->Handle() : nullptr,
                              outArgs ? outArgs->Handle() : nullptr);
}

OfxStatus Host::Load() { return Action(kOfxActionLoad, nullptr, nullptr, nullptr); }

OfxStatus Host::Describe() { return Action(kOfxActionDescribe, descriptor_.Handle(), nullptr, nullptr); }

Effect* Host::ContextDescriptor(const std::string& context)
{
    auto it = contextDescriptors_.find(context);
    return it == contextDescriptors_.end() ? nullptr : it->second.get();
}

OfxStatus Host::DescribeInContext(const std::string& context)
{
    auto e = std::make_unique<Effect>();
    e->descriptor = true;
    e->context = context;
    e->props = descriptor_.props;
    e->props.what = "descriptor in " + context;
    e->params.props.what = "parameter set descriptor";
    PropertySet in;
    in.SetString(kOfxImageEffectPropContext, {context});
    Effect* raw = e.get();
    contextDescriptors_[context] = std::move(e);
    return Action(kOfxImageEffectActionDescribeInContext, raw->Handle(), &in, nullptr);
}

Effect* Host::CreateInstance(const std::string& context, const std::string& depth, OfxStatus* status)
{
    Effect* d = ContextDescriptor(context);
    if (!d) {
        *status = kOfxStatErrUnknown;
        return nullptr;
    }
    auto e = std::make_unique<Effect>();
    e->descriptor = false;
    e->context = context;
    e->depth = depth;
    e->props = d->props;
    e->props.what = "instance";
    e->props.SetString(kOfxPropType, {kOfxTypeImageEffectInstance});
    e->props.SetString(kOfxImageEffectPropContext, {context});
    e->props.SetPointer(kOfxPropInstanceData, nullptr);
    e->props.SetPointer(kOfxImageEffectPropPluginHandle, descriptor_.Handle());
    e->props.SetInt(kOfxPropIsInteractive, {0});
    e->props.SetInt(kOfxImageEffectInstancePropSequentialRender, {0});
    e->props.SetDouble(kOfxImageEffectPropProjectSize, {(double)source.width, (double)source.height});
    e->props.SetDouble(kOfxImageEffectPropProjectOffset, {0, 0});
    e->props.SetDouble(kOfxImageEffectPropProjectExtent, {(double)source.width, (double)source.height});
    e->props.SetDouble(kOfxImageEffectPropProjectPixelAspectRatio, {1.0});
    e->props.SetDouble(kOfxImageEffectPropFrameRate, {25.0});
    e->props.SetDouble(kOfxImageEffectInstancePropEffectDuration, {(double)(source.last - source.first + 1)});
    for (const std::string& name : d->clipOrder) {
        auto c = std::make_unique<Clip>();
        c->name = name;
        c->owner = e.get();
        c->props = d->clips[name]->props;
        c->props.what = "clip instance " + name;
        c->props.SetString(kOfxImageEffectPropPixelDepth, {depth});
        c->props.SetString(kOfxImageEffectPropComponents, {kOfxImageComponentRGBA});
        c->props.SetString(kOfxImageClipPropUnmappedPixelDepth, {depth});
        c->props.SetString(kOfxImageClipPropUnmappedComponents, {kOfxImageComponentRGBA});
        c->props.SetString(kOfxImageEffectPropPreMultiplication, {premultiplication});
        c->props.SetDouble(kOfxImagePropPixelAspectRatio, {1.0});
        c->props.SetDouble(kOfxImageEffectPropFrameRate, {25.0});
        c->props.SetDouble(kOfxImageEffectPropFrameRange, {(double)source.first, (double)source.last});
        c->props.SetDouble(kOfxImageEffectPropUnmappedFrameRange, {(double)source.first, (double)source.last});
        c->props.SetInt(kOfxImageClipPropConnected, {1});
        c->props.SetInt(kOfxImageClipPropContinuousSamples, {0});
        c->props.SetString(kOfxImageClipPropFieldOrder, {kOfxImageFieldNone});
        e->clipOrder.push_back(name);
        e->clips[name] = std::move(c);
    }
    e->params.props.what = "parameter set";
    for (auto& dp : d->params.params) {
        auto p = std::make_unique<Param>();
        p->name = dp->name;
        p->type = dp->type;
        p->props = dp->props;
        p->props.SetString(kOfxPropType, {kOfxTypeParameterInstance});
        if (p->type == kOfxParamTypeDouble)
            p->d = p->props.Double(kOfxParamPropDefault);
        else if (IsIntParam(p->type))
            p->i = p->props.Int(kOfxParamPropDefault);
        else if (p->type == kOfxParamTypeString)
            p->s = p->props.String(kOfxParamPropDefault);
        e->params.params.push_back(std::move(p));
    }
    Effect* raw = e.get();
    instances_.push_back(std::move(e));
    *status = Action(kOfxActionCreateInstance, raw->Handle(), nullptr, nullptr);
    return raw;
}

OfxStatus Host::DestroyInstance(Effect* instance)
{
    OfxStatus st = Action(kOfxActionDestroyInstance, instance->Handle(), nullptr, nullptr);
    for (auto it = instances_.begin(); it != instances_.end(); ++it)
        if (it->get() == instance) {
            instances_.erase(it);
            break;
        }
    return st;
}

OfxStatus Host::Unload() { return Action(kOfxActionUnload, nullptr, nullptr, nullptr); }

static void Changed(Host* host, Effect* e, const std::string& name)
{
    PropertySet begin;
    begin.SetString(kOfxPropChangeReason, {kOfxChangeUserEdited});
    host->Action(kOfxActionBeginInstanceChanged, e->Handle(), &begin, nullptr);
    PropertySet in;
    in.SetString(kOfxPropType, {kOfxTypeParameter});
    in.SetString(kOfxPropName, {name});
    in.SetString(kOfxPropChangeReason, {kOfxChangeUserEdited});
    in.SetDouble(kOfxPropTime, {0.0});
    in.SetDouble(kOfxImageEffectPropRenderScale, {1.0, 1.0});
    host->Action(kOfxActionInstanceChanged, e->Handle(), &in, nullptr);
    host->Action(kOfxActionEndInstanceChanged, e->Handle(), &begin, nullptr);
}

void Host::SetDouble(Effect* e, const std::string& name, double v)
{
    Param* p = e->params.Find(name);
    if (!p) {
        Violation("test set unknown parameter " + name);
        return;
    }
    p->d = v;
    p->dKeys.clear();
    Changed(this, e, name);
}

void Host::SetDoubleKeys(Effect* e, const std::string& name, const std::map<double, double>& keys)
{
    Param* p = e->params.Find(name);
    if (!p) {
        Violation("test set unknown parameter " + name);
        return;
    }
    p->dKeys = keys;
    Changed(this, e, name);
}

void Host::SetInt(Effect* e, const std::string& name, int v)
{
    Param* p = e->params.Find(name);
    if (!p) {
        Violation("test set unknown parameter " + name);
        return;
    }
    p->i = v;
    p->iKeys.clear();
    Changed(this, e, name);
}

void Host::SetString(Effect* e, const std::string& name, const std::string& v)
{
    Param* p = e->params.Find(name);
    if (!p) {
        Violation("test set unknown parameter " + name);
        return;
    }
    p->s = v;
    p->sKeys.clear();
    Changed(this, e, name);
}

OfxStatus Host::RegionOfDefinition(Effect* e, double t, double scale, OfxRectD* rod)
{
    PropertySet in, out;
    in.SetDouble(kOfxPropTime, {t});
    in.SetDouble(kOfxImageEffectPropRenderScale, {scale, scale});
    out.SetDouble(kOfxImageEffectPropRegionOfDefinition, {0, 0, 0, 0});
    OfxStatus st = Action(kOfxImageEffectActionGetRegionOfDefinition, e->Handle(), &in, &out);
    auto v = out.Doubles(kOfxImageEffectPropRegionOfDefinition);
    if (v.size() == 4) *rod = OfxRectD{v[0], v[1], v[2], v[3]};
    return st;
}

OfxStatus Host::RegionOfInterest(Effect* e, double t, double scale, const OfxRectD& window, OfxRectD* roi)
{
    PropertySet in, out;
    in.SetDouble(kOfxPropTime, {t});
    in.SetDouble(kOfxImageEffectPropRenderScale, {scale, scale});
    in.SetDouble(kOfxImageEffectPropRegionOfInterest, {window.x1, window.y1, window.x2, window.y2});
    std::string name = std::string(kOfxImageClipPropRoIPrefix) + kOfxImageEffectSimpleSourceClipName;
    out.SetDouble(name, {window.x1, window.y1, window.x2, window.y2});
    OfxStatus st = Action(kOfxImageEffectActionGetRegionsOfInterest, e->Handle(), &in, &out);
    auto v = out.Doubles(name);
    if (v.size() == 4) *roi = OfxRectD{v[0], v[1], v[2], v[3]};
    return st;
}

OfxStatus Host::FramesNeeded(Effect* e, double t, OfxRangeD* range)
{
    PropertySet in, out;
    in.SetDouble(kOfxPropTime, {t});
    std::string name = std::string(kOfxImageClipPropFrameRangePrefix) + kOfxImageEffectSimpleSourceClipName;
    out.SetDouble(name, {t, t});
    OfxStatus st = Action(kOfxImageEffectActionGetFramesNeeded, e->Handle(), &in, &out);
    auto v = out.Doubles(name);
    *range = OfxRangeD{t, t};
    if (st == kOfxStatOK && v.size() >= 2) {
        range->min = v[0];
        range->max = v[1];
        for (size_t k = 2; k + 1 < v.size(); k += 2) {  // several ranges: take their hull
            range->min = std::min(range->min, v[k]);
            range->max = std::max(range->max, v[k + 1]);
        }
    }
    return st;
}

OfxStatus Host::IsIdentity(Effect* e, double t, double scale, std::string* clip, double* time)
{
    OfxRectI b = PixelBounds(source, scale);
    PropertySet in, out;
    in.SetDouble(kOfxPropTime, {t});
    in.SetString(kOfxImageEffectPropFieldToRender, {kOfxImageFieldNone});
    in.SetInt(kOfxImageEffectPropRenderWindow, {b.x1, b.y1, b.x2, b.y2});
    in.SetDouble(kOfxImageEffectPropRenderScale, {scale, scale});
    out.SetString(kOfxPropName, {""});
    out.SetDouble(kOfxPropTime, {t});
    OfxStatus st = Action(kOfxImageEffectActionIsIdentity, e->Handle(), &in, &out);
    *clip = out.String(kOfxPropName);
    *time = out.Double(kOfxPropTime, 0, t);
    return st;
}

OfxStatus Host::ClipPreferences(Effect* e, PropertySet* out)
{
    for (const std::string& c : e->clipOrder) {
        out->SetString(kOfxImageClipPropComponentsPrefix + c, {kOfxImageComponentRGBA});
        out->SetString(kOfxImageClipPropDepthPrefix + c, {e->depth});
        out->SetDouble(kOfxImageClipPropPARPrefix + c, {1.0});
    }
    out->SetDouble(kOfxImageEffectPropFrameRate, {25.0});
    out->SetString(kOfxImageEffectPropPreMultiplication, {premultiplication});
    out->SetInt(kOfxImageClipPropContinuousSamples, {0});
    out->SetInt(kOfxImageEffectFrameVarying, {0});
    return Action(kOfxImageEffectActionGetClipPreferences, e->Handle(), nullptr, out);
}

static void SequenceArgs(PropertySet* in, double first, double last, double scale)
{
    in->SetDouble(kOfxImageEffectPropFrameRange, {first, last});
    in->SetDouble(kOfxImageEffectPropFrameStep, {1.0});
    in->SetInt(kOfxPropIsInteractive, {0});
    in->SetDouble(kOfxImageEffectPropRenderScale, {scale, scale});
    in->SetInt(kOfxImageEffectPropSequentialRenderStatus, {0});
    in->SetInt(kOfxImageEffectPropInteractiveRenderStatus, {0});
}

OfxStatus Host::BeginSequence(Effect* e, double first, double last, double scale)
{
    PropertySet in;
    SequenceArgs(&in, first, last, scale);
    return Action(kOfxImageEffectActionBeginSequenceRender, e->Handle(), &in, nullptr);
}

OfxStatus Host::EndSequence(Effect* e, double first, double last, double scale)
{
    PropertySet in;
    SequenceArgs(&in, first, last, scale);
    return Action(kOfxImageEffectActionEndSequenceRender, e->Handle(), &in, nullptr);
}

Host::RenderResult Host::Render(Effect* e, double t, double scale, bool forceRender)
{
    RenderResult r;
    const int bpp = BytesPerPixel(e->depth);
    OfxRectD srcRod{(double)source.origin.x, (double)source.origin.y, (double)(source.origin.x + source.width),
                    (double)(source.origin.y + source.height)};

    OfxRectD rod{0, 0, 0, 0};
    OfxStatus st = RegionOfDefinition(e, t, scale, &rod);
    if (st != kOfxStatOK && st != kOfxStatReplyDefault)
        Violation("GetRegionOfDefinition failed: " + std::to_string(st));
    if (st == kOfxStatReplyDefault) rod = srcRod;
    if (rod.x1 != srcRod.x1 || rod.y1 != srcRod.y1 || rod.x2 != srcRod.x2 || rod.y2 != srcRod.y2)
        Violation("region of definition differs from the source's");

    std::string identityClip;
    double identityTime = t;
    st = IsIdentity(e, t, scale, &identityClip, &identityTime);
    if (st == kOfxStatOK && !forceRender) {
        r.identity = true;
        r.status = kOfxStatOK;
        if (identityClip != kOfxImageEffectSimpleSourceClipName)
            Violation("IsIdentity named clip '" + identityClip + "'");
        r.pixels = ScaledFrame(source, identityTime, scale, e->depth, &r.width, &r.height);
        return r;
    }

    OfxRangeD range{t, t};
    FramesNeeded(e, t, &range);
    OfxRectD roi{0, 0, 0, 0};
    if (RegionOfInterest(e, t, scale, rod, &roi) == kOfxStatOK &&
        (roi.x1 != srcRod.x1 || roi.y1 != srcRod.y1 || roi.x2 != srcRod.x2 || roi.y2 != srcRod.y2))
        Violation("region of interest differs from the source's region of definition");

    OfxRectI b = PixelBounds(source, scale);
    r.width = b.x2 - b.x1;
    r.height = b.y2 - b.y1;
    const int stride = r.width * bpp + outputRowPadding;
    Image out;
    out.pixels.assign((size_t)stride * r.height, 0xCD);
    // Memory row of OFX row y (0 = bottom), as for source images.
    auto memoryRow = [&](int y) { return out.pixels.data() + (size_t)(outputTopDown ? r.height - 1 - y : y) * stride; };
    out.props.what = "output image";
    out.props.SetString(kOfxPropType, {kOfxTypeImage});
    out.props.SetPointer(kOfxImagePropData, memoryRow(0));
    out.props.SetInt(kOfxImagePropBounds, {b.x1, b.y1, b.x2, b.y2});
    out.props.SetInt(kOfxImagePropRegionOfDefinition, {b.x1, b.y1, b.x2, b.y2});
    out.props.SetInt(kOfxImagePropRowBytes, {outputTopDown ? -stride : stride});
    out.props.SetString(kOfxImageEffectPropPixelDepth, {e->depth});
    out.props.SetString(kOfxImageEffectPropComponents, {kOfxImageComponentRGBA});
    out.props.SetString(kOfxImageEffectPropPreMultiplication, {premultiplication});
    out.props.SetDouble(kOfxImagePropPixelAspectRatio, {1.0});
    out.props.SetDouble(kOfxImageEffectPropRenderScale, {scale, scale});
    out.props.SetString(kOfxImagePropField, {kOfxImageFieldNone});
    out.props.SetString(kOfxImagePropUniqueIdentifier, {"output@" + std::to_string(t)});

    PropertySet in;
    in.SetDouble(kOfxPropTime, {t});
    in.SetString(kOfxImageEffectPropFieldToRender, {kOfxImageFieldNone});
    in.SetInt(kOfxImageEffectPropRenderWindow, {b.x1, b.y1, b.x2, b.y2});
    in.SetDouble(kOfxImageEffectPropRenderScale, {scale, scale});
    in.SetInt(kOfxImageEffectPropSequentialRenderStatus, {0});
    in.SetInt(kOfxImageEffectPropInteractiveRenderStatus, {0});

    e->renderScale = scale;
    e->renderTime = t;
    e->allowed = range;
    e->output = &out;
    e->rendering = true;
    r.status = Action(kOfxImageEffectActionRender, e->Handle(), &in, nullptr);
    e->rendering = false;
    e->output = nullptr;

    {
        std::lock_guard<std::mutex> g(lock);
        size_t leaked = 0;
        for (auto& kv : liveImages)
            if (kv.first->Pointer("TestHostOwner") == e) leaked++;
        if (leaked)
            violations.push_back(std::to_string(leaked) + " image(s) not released after rendering " +
                                 std::to_string(t));
    }

    r.pixels.resize((size_t)r.width * r.height * bpp);
    for (int y = 0; y < r.height; ++y)
        std::memcpy(r.pixels.data() + (size_t)y * r.width * bpp, memoryRow(r.height - 1 - y), (size_t)r.width * bpp);
    for (size_t k = 0; k + bpp <= r.pixels.size(); k += (size_t)bpp) {
        bool sentinel = true;
        for (int c = 0; c < bpp && sentinel; ++c) sentinel = r.pixels[k + (size_t)c] == 0xCD;
        if (sentinel) {
            r.fullyWritten = false;
            break;
        }
    }
    return r;
}

}  // namespace ofxhost
