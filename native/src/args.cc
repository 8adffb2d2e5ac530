// Argument readers for the addon's functions: typed arrays are used in place (no copy), counts
// arrive as plain JS number arrays and are checked against the buffer lengths before MPI sees them.
#include "lasp_mpi.h"

#include <cmath>
#include <string>

namespace lasp_mpi {

static Napi::TypeError Bad(Napi::Env env, const char* what, const char* expected) {
  return Napi::TypeError::New(env, std::string(what) + ": expected " + expected);
}

Napi::Float32Array F32Arg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  Napi::Value v = info[i];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw Bad(info.Env(), what, "a Float32Array");
  }
  return v.As<Napi::Float32Array>();
}

std::vector<int> IntsArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  Napi::Value v = info[i];
  if (!v.IsArray()) throw Bad(info.Env(), what, "an array of non-negative integers");
  Napi::Array a = v.As<Napi::Array>();
  std::vector<int> out(a.Length());
  for (uint32_t k = 0; k < a.Length(); k++) {
    Napi::Value e = a.Get(k);
    double d = e.IsNumber() ? e.As<Napi::Number>().DoubleValue() : -1;
    if (!(d >= 0 && d <= 2147483647.0 && std::floor(d) == d)) {
      throw Bad(info.Env(), what, "an array of non-negative integers");
    }
    out[k] = static_cast<int>(d);
  }
  return out;
}

int IntArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  Napi::Value v = info[i];
  double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : 0.5;
  if (!(std::floor(d) == d && std::fabs(d) <= 2147483647.0)) throw Bad(info.Env(), what, "an integer");
  return static_cast<int>(d);
}

double NumberArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  Napi::Value v = info[i];
  if (!v.IsNumber()) throw Bad(info.Env(), what, "a number");
  return v.As<Napi::Number>().DoubleValue();
}

std::vector<int> Displs(const std::vector<int>& counts) {
  std::vector<int> d(counts.size());
  long long acc = 0;
  for (size_t k = 0; k < counts.size(); k++) {
    d[k] = static_cast<int>(acc);
    acc += counts[k];
  }
  return d;
}

void CheckExtent(Napi::Env env, const std::vector<int>& counts, const std::vector<int>& displs, size_t len,
                 const char* what) {
  if (counts.size() != displs.size()) {
    throw Napi::RangeError::New(env, std::string(what) + ": counts and displacements differ in length");
  }
  for (size_t k = 0; k < counts.size(); k++) {
    if (static_cast<long long>(displs[k]) + counts[k] > static_cast<long long>(len)) {
      throw Napi::RangeError::New(env, std::string(what) + ": part " + std::to_string(k) + " (" +
                                           std::to_string(displs[k]) + " + " + std::to_string(counts[k]) +
                                           ") lies outside the buffer of " + std::to_string(len) + " elements");
    }
  }
}

}  // namespace lasp_mpi
