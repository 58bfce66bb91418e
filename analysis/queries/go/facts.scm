; Go facts for Autoscope.
; Capture names follow tree-sitter's tags.scm (`@definition.*`, `@reference.*`, `@name`);
; the extra captures (`@import.*`, `@constant.value`, `@method.receiver`, `@call.*`,
; `@local.*`, `@handler.*`, `@exit.*`) carry what tags.scm does not.
; The pattern's "main" capture (the one on the outer node) tells the extractor what it is.

; package geo
(package_clause
  (package_identifier) @name) @definition.package

; import pb "github.com/x/proto"   /   import _ "x"   /   import . "x"
(import_spec
  name: (_)? @import.alias
  path: (_) @import.path) @reference.import

; const name = "srv-geo"   /   const url = base + "/x"   (kept when the value has a string part)
(const_spec
  name: (identifier) @name
  value: (expression_list
    .
    (_) @constant.value)) @definition.constant

; type Server struct { ... }
(type_spec
  name: (type_identifier) @name
  type: (struct_type) @type.body) @definition.struct

; type GeoClient interface { ... }
(type_spec
  name: (type_identifier) @name
  type: (interface_type) @type.body) @definition.interface

; func main() { ... }
(function_declaration
  name: (identifier) @name
  parameters: (parameter_list) @function.params) @definition.function

; func (s *Server) Nearby(...) { ... }
(method_declaration
  receiver: (parameter_list) @method.receiver
  name: (field_identifier) @name
  parameters: (parameter_list) @function.params) @definition.method

; f(x), pkg.F(x), s.client.M(x), (f)(x)
(call_expression
  function: [
    (identifier) @name
    (selector_expression
      operand: (_) @call.receiver
      field: (field_identifier) @name)
    (parenthesized_expression
      (identifier) @name)
    (parenthesized_expression
      (selector_expression
        operand: (_) @call.receiver
        field: (field_identifier) @name))
  ]
  arguments: (argument_list) @call.arguments) @reference.call

; x, err := pb.NewGeoClient(conn)
(short_var_declaration
  left: (expression_list) @local.names
  right: (expression_list) @local.values) @definition.local

; url = "http://..." (reassignment, tracked for string arguments)
(assignment_statement
  left: (expression_list) @local.names
  right: (expression_list) @local.values) @definition.assignment

; var c pb.GeoClient   /   var x = &http.Client{}
(var_spec) @definition.var

; if err != nil { ... } (the extractor keeps the conditions that test an error)
(if_statement
  condition: (_) @handler.condition
  consequence: (block) @handler.body) @handler.if

; return nil, err
(return_statement) @exit.return
