// A small JSON reader and string quoting, enough for the RunSpec and the
// helper's messages. Integers are kept exactly (int64) as well as as doubles.
#ifndef TSB_JSON_H_
#define TSB_JSON_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace tsb {

class Json {
 public:
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }
  bool is_bool() const { return type_ == Type::kBool; }
  bool is_number() const { return type_ == Type::kNumber; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_array() const { return type_ == Type::kArray; }
  bool is_object() const { return type_ == Type::kObject; }

  bool boolean() const { return bool_; }
  double number() const { return number_; }
  int64_t integer() const { return integer_; }
  const std::string& string() const { return string_; }
  const std::vector<Json>& array() const { return array_; }
  const std::vector<std::pair<std::string, Json>>& object() const { return object_; }

  // The member named key, or nullptr.
  const Json* Get(const char* key) const;

  // Parses text; on failure returns false and sets *error.
  static bool Parse(const std::string& text, Json* out, std::string* error);

 private:
  friend class JsonParser;
  Type type_ = Type::kNull;
  bool bool_ = false;
  double number_ = 0;
  int64_t integer_ = 0;
  std::string string_;
  std::vector<Json> array_;
  std::vector<std::pair<std::string, Json>> object_;
};

// s as a JSON string literal, quotes included.
std::string JsonQuote(const std::string& s);

}  // namespace tsb

#endif  // TSB_JSON_H_
